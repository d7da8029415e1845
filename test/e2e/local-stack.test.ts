import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LocalStack,
  startLocalStack,
  type WorkloadView,
  workerSpike,
  workloadView,
} from "./stack.ts";

// The whole local loop as a person runs it: `npm start` (tools/local/main.ts) as a real process,
// real service and agent processes per replica, real sockets and signals.

const MARK = `swell-e2e-${randomUUID()}`;
let stack: LocalStack;
let logDir: string;
let controller: string;
let worker: string;
/** Jobs the worker accepted (202) during the spike; each must finish by the time all stop. */
let accepted = 0;

const view = (name: string) => workloadView(controller, name);
const until = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) =>
  stack.until(what, timeoutMs, probe);

/** Processes (besides this test) that carry this run's marker in their environment. */
function leftovers(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, "latin1").includes(MARK)) pids.push(Number(d));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

beforeAll(async () => {
  stack = await startLocalStack({ SWELL_E2E_MARK: MARK });
  ({ controller, worker, logDir } = stack);
  await until("worker and api ready", 30_000, async () => {
    const [w, a] = await Promise.all([view("worker"), view("api")]);
    return w.readyReplicas === 1 && a.readyReplicas === 1 ? true : undefined;
  });
}, 60_000);

afterAll(async () => {
  if (stack && stack.proc.exitCode === null) {
    stack.proc.kill("SIGKILL");
  }
});

describe("local stack (npm start)", () => {
  it("scales the worker up within 3 s of a spike, back down after it, with no 5xx and no job lost", async () => {
    const samples: { t: number; v: WorkloadView }[] = [];
    const watching = new AbortController();
    const start = performance.now();
    const watcher = (async () => {
      while (!watching.signal.aborted) {
        try {
          samples.push({ t: performance.now() - start, v: await view("worker") });
        } catch {}
        await sleep(100);
      }
    })();

    const stats = await workerSpike(worker);
    const t = stats.totals();
    accepted = t.ok;
    expect(t.sent).toBeGreaterThanOrEqual(790);
    expect(Object.fromEntries(stats.errorKinds), "5xx or failed requests").toEqual({});
    expect(t.ok + t.tooMany).toBe(t.sent);
    expect(stats.tooManyWithoutRetryAfter, "429 answers must carry Retry-After").toBe(0);

    const firstUp = samples.find((s) => (s.v.currentReplicas ?? 0) > 1);
    expect(firstUp, "the worker never scaled up").toBeDefined();
    expect(firstUp?.t).toBeLessThanOrEqual(3000);
    const peak = Math.max(...samples.map((s) => s.v.readyReplicas ?? 0));
    expect(peak).toBeGreaterThanOrEqual(4); // 100 jobs/s of 200 ms on 4 slots a replica

    // Back to one replica once load is gone and the (10 s) stabilization window has passed.
    await until("the worker back at 1 replica", 45_000, async () => {
      const v = await view("worker");
      return v.currentReplicas === 1 && v.readyReplicas === 1 ? true : undefined;
    });
    watching.abort();
    await watcher;

    // Every replica that left drained its queue: no job was abandoned or failed.
    const log = readFileSync(path.join(logDir, "worker.log"), "utf8");
    // Lines are "<replica> <json>"; the agents' own lines are "<replica>/agent <json>".
    const ends = log
      .split("\n")
      .filter((l) => l.includes("shutdown complete") && !l.split(" ", 1)[0]?.endsWith("/agent"));
    expect(ends.length).toBeGreaterThanOrEqual(peak - 1);
    for (const line of ends) expect(JSON.parse(line.slice(line.indexOf("{"))).abandoned).toBe(0);
    expect(log).not.toMatch(/"outcome":"failed"/);
  }, 120_000);

  it("stops gracefully on SIGINT: every accepted job finished, no process left behind", async () => {
    const code = await stack.stop(60_000);
    expect(code, stack.output()).toBe(0);
    await until("no leftover processes", 10_000, async () =>
      leftovers().length === 0 ? true : undefined,
    );

    // Each worker replica's last line counts what its queue accepted and finished over its life.
    const ends = readFileSync(path.join(logDir, "worker.log"), "utf8")
      .split("\n")
      .filter((l) => l.includes("shutdown complete") && !l.split(" ", 1)[0]?.endsWith("/agent"))
      .map((l) => JSON.parse(l.slice(l.indexOf("{"))) as Record<string, number>);
    const sum = (k: string) => ends.reduce((a, e) => a + (e[k] ?? 0), 0);
    expect(accepted).toBeGreaterThan(0);
    expect(sum("accepted_total")).toBe(accepted);
    expect(sum("finished_total")).toBe(accepted);
    expect(sum("abandoned")).toBe(0);
  }, 60_000);
});
