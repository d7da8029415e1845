import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { runLoad } from "../load/run.ts";
import type { BenchContext } from "./context.ts";
import { startProgram } from "./proc.ts";
import { percentile } from "./stats.ts";

export interface ReactionResult {
  /** From the first request of a step surge to the controller's scale write, over the runs. */
  p50Ms: number;
  p95Ms: number;
  runsMs: number[];
  surgeRps: number;
  /** The agents' scrape interval; undefined: as `npm start` runs them. */
  scrapeIntervalMs: number | undefined;
  /** Reads of the decision log that got no answer in time (the controller busy with the surge). */
  slowPolls: number;
}

interface View {
  currentReplicas: number | null;
  readyReplicas: number | null;
  decisions: { at: string; applied: boolean; currentReplicas: number; desiredReplicas: number }[];
}

const SURGE_RPS = 100;
/**
 * How long one read of the decision log may take. With the local stack's many processes on a
 * small machine the controller can take seconds to answer during a surge; the read's own timing
 * does not matter (each decision carries its time).
 */
const POLL_TIMEOUT_MS = 5000;
/** A surge must bring an applied scale-up within this long of its first request. */
const SCALE_WITHIN_MS = 15_000;
/** How long the decision log is read for an answer about that. */
const READ_WITHIN_MS = 60_000;
/** A job costs 200 ms and a worker works 4 at once: one replica serves 20 jobs a second. */
const SURGE_BODY = JSON.stringify({ costMs: 200 });

/**
 * Reaction time on the local stack (`npm start`: tools/local/main.ts, its controller, pools of
 * worker and api processes with their agents). Each run waits for the worker to be back at one
 * replica, then sends a step of SURGE_RPS jobs a second and reads the controller's decision log
 * for the first applied scale-up after the first request.
 */
export async function benchReaction(
  ctx: BenchContext,
  /** The agents' SWELL_SCRAPE_INTERVAL in ms; the local stack's own setting when undefined. */
  scrapeIntervalMs?: number,
): Promise<ReactionResult> {
  const runs = ctx.quick ? 3 : 10;
  const [cp, ap, wp] = await Promise.all([ctx.freePort(), ctx.freePort(), ctx.freePort()]);
  const controller = `http://127.0.0.1:${cp}`;
  const worker = `http://127.0.0.1:${wp}`;
  const logDir = mkdtempSync(path.join(tmpdir(), "swell-bench-local-"));
  const stack = startProgram(
    "local stack",
    "tools/local/main.ts",
    {
      CONTROLLER_PORT: String(cp),
      API_PORT: String(ap),
      WORKER_PORT: String(wp),
      SWELL_LOG_DIR: logDir,
      SWELL_TOKEN: "swell-bench-token",
      // The replicas' agents inherit the stack's environment.
      ...(scrapeIntervalMs ? { SWELL_SCRAPE_INTERVAL: `${scrapeIntervalMs}ms` } : {}),
    },
    { signal: "SIGTERM" },
  );
  ctx.cleanup.add(stack.stop);
  const viewUrl = `${controller}/v1/workloads/default/worker`;
  let slowPolls = 0;
  /** The worker's view, or the reason there is none (not up yet, slow, an error answer). */
  const view = async (): Promise<View | Error> => {
    try {
      const res = await fetch(viewUrl, { signal: AbortSignal.timeout(POLL_TIMEOUT_MS) });
      if (res.status !== 200) return new Error(`GET ${viewUrl} answered ${res.status}`);
      return (await res.json()) as View;
    } catch (err) {
      if (err instanceof Error && err.name === "TimeoutError") {
        slowPolls++;
        return new Error(`GET ${viewUrl} got no answer within ${POLL_TIMEOUT_MS} ms`);
      }
      return new Error(`GET ${viewUrl}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const until = async (what: string, timeoutMs: number, ok: (v: View) => boolean) => {
    const end = Date.now() + timeoutMs;
    let last: Error | undefined;
    while (Date.now() < end) {
      if (stack.proc.exitCode !== null)
        throw new Error(`local stack exited ${stack.proc.exitCode}:\n${stack.stderrTail()}`);
      const v = await view();
      if (!(v instanceof Error) && ok(v)) return;
      last = v instanceof Error ? v : undefined;
      await sleep(100);
    }
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last read: ${last.message})` : ""}; logs in ${logDir}`,
    );
  };
  try {
    const agents = scrapeIntervalMs
      ? `agents at ${1000 / scrapeIntervalMs} Hz`
      : "agents as npm start runs them";
    ctx.progress(`reaction: starting the local stack, ${agents} (logs in ${logDir})`);
    await until("the worker to be ready", 60_000, (v) => v.readyReplicas === 1);
    const runsMs: number[] = [];
    for (let r = 0; r < runs; r++) {
      await until(
        "the worker to scale back to one replica",
        120_000,
        (v) => v.currentReplicas === 1 && v.readyReplicas === 1,
      );
      await sleep(3000); // the agents' windows forget the last surge
      const stopLoad = new AbortController();
      const t0 = Date.now();
      const load = runLoad({
        target: new URL("/jobs", worker),
        method: "POST",
        body: SURGE_BODY,
        profile: "constant",
        rps: SURGE_RPS,
        durationS: SCALE_WITHIN_MS / 1000,
        timeoutMs: 10_000,
        maxInFlight: 5000,
        signal: stopLoad.signal,
      });
      let scaledAt: number | undefined;
      let last: Error | undefined;
      const slowBefore = slowPolls;
      // The surge is judged on the decision's own time: a write within SCALE_WITHIN_MS of the
      // first request. Reading it may take longer when the machine is starved (the scale-up
      // starts a dozen processes at once), so reads go on, up to READ_WITHIN_MS, until one
      // answered after that time shows whether the write came; each slow read is counted.
      let answeredAfterDeadline = false;
      const stopLoadAt = t0 + SCALE_WITHIN_MS;
      try {
        while (scaledAt === undefined && !answeredAfterDeadline) {
          if (Date.now() - t0 > READ_WITHIN_MS) break;
          if (Date.now() > stopLoadAt) stopLoad.abort();
          await sleep(50);
          const asked = Date.now();
          const v = await view();
          if (v instanceof Error) {
            last = v;
            continue;
          }
          const write = v.decisions.find(
            (d) => d.applied && d.desiredReplicas > d.currentReplicas && Date.parse(d.at) >= t0,
          );
          if (write && Date.parse(write.at) - t0 <= SCALE_WITHIN_MS)
            scaledAt = Date.parse(write.at);
          else if (asked - t0 > SCALE_WITHIN_MS) answeredAfterDeadline = true;
        }
      } finally {
        stopLoad.abort();
        await load;
      }
      if (scaledAt === undefined) {
        throw new Error(
          `run ${r + 1}/${runs}: ${answeredAfterDeadline ? `the decision log shows no applied scale-up within ${SCALE_WITHIN_MS / 1000} s` : `the decision log could not be read within ${READ_WITHIN_MS / 1000} s`} of a ${SURGE_RPS} jobs/s surge${last ? ` (last failed read: ${last.message})` : ""}; logs in ${logDir}`,
        );
      }
      runsMs.push(scaledAt - t0);
      const slow = slowPolls - slowBefore;
      ctx.progress(
        `reaction: run ${r + 1}/${runs}: scale write ${scaledAt - t0} ms after the first request${slow > 0 ? ` (${slow} reads of the decision log took over ${POLL_TIMEOUT_MS} ms and were read again)` : ""}`,
      );
    }
    return {
      p50Ms: percentile(runsMs, 50),
      p95Ms: percentile(runsMs, 95),
      runsMs,
      surgeRps: SURGE_RPS,
      scrapeIntervalMs,
      slowPolls,
    };
  } finally {
    await stack.stop();
    ctx.cleanup.delete(stack.stop);
  }
}
