import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ServiceProcess,
  startController,
  startService,
} from "../integration/services/process.ts";
import { workerPolicyFile } from "./harness.ts";

// Every operation of the worker, the api and the controller, fuzzed by schemathesis (an
// independent tool, from PyPI) from the OpenAPI document each serves at /openapi.json: no 5xx,
// every response matching its documented status, content type, headers and schema, wrong
// methods 405, auth enforced; then the process must still be alive and ready.
const ROOT = path.resolve(import.meta.dirname, "../..");
const TOKEN = "fuzz-token";
/** Test cases per operation and phase; bounded so the three runs take about a minute on 2 cores. */
const EXAMPLES = Number(process.env.SWELL_FUZZ_EXAMPLES ?? 40);
/** Fixed, so a failure reproduces; set SWELL_FUZZ_SEED to explore others. */
const SEED = process.env.SWELL_FUZZ_SEED ?? "20261202";

/** schemathesis's `st`, installed on first use by the project's script. */
function schemathesis(): string {
  const result = spawnSync("bash", [path.join(ROOT, "tools/fuzz/schemathesis.sh")], {
    encoding: "utf8",
    timeout: 600_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `schemathesis is needed for this test (tools/fuzz/schemathesis.sh installs it from PyPI; needs python3 with venv): ${result.stderr}`,
    );
  }
  return result.stdout.trim().split("\n").at(-1) ?? "";
}

interface FuzzResult {
  code: number | null;
  output: string;
}

function fuzz(st: string, url: string, extra: string[] = []): Promise<FuzzResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "swell-fuzz-"));
  const args = [
    "--no-color",
    "--config-file",
    path.join(ROOT, "tools/fuzz/schemathesis.toml"),
    "run",
    `${url}/openapi.json`,
    "--max-examples",
    String(EXAMPLES),
    "--seed",
    SEED,
    "--workers",
    "1",
    "--request-timeout",
    "10",
    ...extra,
  ];
  // cwd: a fresh directory, for schemathesis's example database and report files.
  const child = spawn(st, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    output += c;
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    output += c;
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, output })));
}

/** Operations schemathesis can test: all but GET /openapi.json, the document it reads. */
async function operationCount(url: string): Promise<number> {
  const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0) - 1;
}

async function expectAliveAndReady(p: ServiceProcess): Promise<void> {
  expect(p.proc.exitCode, p.stderr()).toBeNull();
  expect(p.proc.signalCode).toBeNull();
  expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
  expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
  // Nothing was an unhandled error: the kit logs one line per 500 it turns a throw into.
  expect(p.lines.filter((l) => l.msg === "unhandled error")).toEqual([]);
}

function expectClean(result: FuzzResult, operations: number): void {
  // For docs/reliability.md: how many cases schemathesis made, in how long.
  const summary = /(\d+) generated[^\n]*/.exec(result.output)?.[0];
  const took = /in ([\d.]+s) =/.exec(result.output)?.[1];
  console.log(JSON.stringify({ operations, summary, took }));
  expect(result.output, result.output).toMatch(new RegExp(`Tested: ${operations}\\b`));
  expect(result.code, result.output).toBe(0);
  expect(result.output).not.toMatch(/\d+ failures? in/);
}

describe("OpenAPI fuzzing with schemathesis", () => {
  let st = "";
  let worker: ServiceProcess;
  let api: ServiceProcess;
  let controller: ServiceProcess;

  beforeAll(async () => {
    st = schemathesis();
    // Short fault delays and a deep queue: the fuzzer asks for the largest values it may.
    const quick = { FAULT_MAX_DELAY: "50ms" };
    worker = await startService("worker", {
      ...quick,
      QUEUE_CAPACITY: "100000",
      WORKER_CONCURRENCY: "64",
    });
    api = await startService("api", {
      ...quick,
      WORKER_URL: worker.url,
      WORKER_TIMEOUT: "20s",
      API_WORK_MS: "0",
    });
    controller = await startController({
      SWELL_TOKEN: TOKEN,
      SWELL_POLICIES: workerPolicyFile(),
      // The fuzzer sends reports as fast as it can from a handful of pod uids.
      SWELL_REPORTS_PER_POD_PER_SECOND: "1000",
    });
  }, 600_000);
  afterAll(async () => {
    await Promise.all([worker?.stop(), api?.stop(), controller?.stop()]);
  });

  it("worker: every operation, no failure; alive and ready after", async () => {
    const result = await fuzz(st, worker.url);
    expectClean(result, await operationCount(worker.url));
    await expectAliveAndReady(worker);
  }, 300_000);

  it("api: every operation, no failure; alive and ready after", async () => {
    const result = await fuzz(st, api.url);
    expectClean(result, await operationCount(api.url));
    await expectAliveAndReady(api);
  }, 300_000);

  it("controller: every operation, with and without the token, no failure; alive and ready after", async () => {
    const result = await fuzz(st, controller.url, ["--header", `Authorization: Bearer ${TOKEN}`]);
    expectClean(result, await operationCount(controller.url));
    await expectAliveAndReady(controller);
  }, 300_000);
});
