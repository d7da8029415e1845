import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { spawnService } from "./process.ts";

describe("a bad config exits 2, one line per problem naming the variable, no stack trace", () => {
  it.each([
    ["worker", { PORT: "abc" }, ["PORT"]],
    [
      "worker",
      { QUEUE_CAPACITY: "0", WORKER_CONCURRENCY: "many" },
      ["WORKER_CONCURRENCY", "QUEUE_CAPACITY"],
    ],
    ["worker", { JOB_COST_MS: "70000" }, ["JOB_COST_MS"]],
    ["api", { WORKER_URL: "not a url" }, ["WORKER_URL"]],
    ["api", { LOG_LEVEL: "loud", SHUTDOWN_TIMEOUT: "forever" }, ["LOG_LEVEL", "SHUTDOWN_TIMEOUT"]],
    ["api", { OTEL_TRACES_SAMPLER: "ratio" }, ["OTEL_TRACES_SAMPLER"]],
    ["worker", { OTEL_TRACES_SAMPLER_ARG: "10%" }, ["OTEL_TRACES_SAMPLER_ARG"]],
    ["api", { OTEL_TRACES_SAMPLER_ARG: "1.5" }, ["OTEL_TRACES_SAMPLER_ARG"]],
  ] as const)("%s with %j", async (name, env, variables) => {
    const proc = spawnService(name, env);
    let stderr = "";
    proc.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const [code] = await once(proc, "exit");
    expect(code).toBe(2);
    const lines = stderr.trim().split("\n");
    expect(lines.map((l) => /^config: (\w+): /.exec(l)?.[1])).toEqual([...variables]);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
