import { describe, expect, it } from "vitest";
import { DEFAULT_SIGNAL_SELECTORS } from "../../../../sidecar/agent/config.ts";
import { parseExposition } from "../../../../sidecar/agent/exposition.ts";
import type { ScrapeResult } from "../../../../sidecar/agent/scrape.ts";
import { parseSelectors } from "../../../../sidecar/agent/selector.ts";
import {
  type AgentState,
  INITIAL_STATE,
  leavingReport,
  type StepParams,
  step,
} from "../../../../sidecar/agent/step.ts";
import { Report } from "../../../../sidecar/protocol/report.ts";
import { SIGNAL_NAMES, type SignalName } from "../../../../sidecar/protocol/signals.ts";

const T0 = 1_800_000_000_000;
const identity = {
  workload: { namespace: "default", kind: "Deployment", name: "worker" },
  pod: { name: "worker-abc", uid: "uid-1" },
};
const specs = Object.fromEntries(
  SIGNAL_NAMES.map((name) => {
    const parsed = parseSelectors(DEFAULT_SIGNAL_SELECTORS[name]);
    if (!parsed.ok) throw new Error(parsed.error);
    return [name, parsed.value];
  }),
) as Record<SignalName, ReturnType<typeof parseSelectors> extends { value: infer V } ? V : never>;

const params: StepParams = {
  identity,
  specs,
  shortWindowMs: 1000,
  longWindowMs: 10_000,
  slackMs: 125,
  reportIntervalMs: 2000,
  jumpMinGapMs: 250,
};

const worker = (accepted: number, queue: number) => `
# TYPE work_jobs_total counter
work_jobs_total{outcome="accepted"} ${accepted}
work_jobs_total{outcome="rejected"} 0
work_jobs_total{outcome="completed"} 0
work_jobs_total{outcome="failed"} 0
# TYPE work_queue_length gauge
work_queue_length ${queue}
`;

const ok = (seconds: number, text: string, app: "ready" | "notReady" = "ready"): ScrapeResult => ({
  app,
  snapshot: { at: T0 + seconds * 1000, metrics: parseExposition(text) },
});
const down = (seconds: number): ScrapeResult => ({
  app: "unreachable",
  failure: "connection",
  detail: "ECONNREFUSED",
  at: T0 + seconds * 1000,
});

/** Runs scrapes every 250 ms through `step`, returning each step's report (or undefined). */
function run(results: ScrapeResult[], state: AgentState = INITIAL_STATE) {
  const out = [];
  for (const r of results) {
    const s = step(state, r, params);
    state = s.state;
    out.push(s);
  }
  return { out, state };
}

describe("step", () => {
  it("reports the first scrape at once, then at the report interval", () => {
    const { out } = run([0, 0.25, 0.5, 1, 1.5, 2, 2.25].map((t) => ok(t, worker(10 * t * 4, 0))));
    expect(out.map((s) => s.reason)).toEqual([
      "first",
      undefined,
      undefined,
      undefined,
      undefined,
      "interval",
      undefined,
    ]);
    // Every report the agent makes is one the controller's schema takes (seq added by the sender).
    for (const s of out)
      if (s.report) expect(Report.safeParse({ ...s.report, seq: 1 }).success).toBe(true);
  });

  it("a jump in arrivals reports before the interval", () => {
    // 40 jobs/s for 6 s (reports at 0, 2, 4, 6), then 100 jobs in the next 250 ms.
    const steady = Array.from({ length: 25 }, (_, i) => ok(i / 4, worker(i * 10, 0)));
    const { out } = run([...steady, ok(6.25, worker(240 + 100, 0))]);
    expect(out.filter((s) => s.report).map((s) => s.reason)).toEqual([
      "first",
      "interval",
      "interval",
      "interval",
      "jump",
    ]);
    const last = out.at(-1);
    expect(last?.reason).toBe("jump");
    expect(last?.jumped).toBe("requestRate");
    expect(last?.report?.signals.requestRate).toBe(130); // (340 - 210) / 1 s
  });

  it("an unreachable app is reported as such, with no signals, at once", () => {
    const { out } = run([ok(0, worker(0, 3)), ok(0.25, worker(5, 3)), down(0.5)]);
    const last = out.at(-1);
    expect(last?.reason).toBe("appState");
    expect(last?.report).toMatchObject({ app: "unreachable", signals: {} });
  });

  it("after an outage the first scrape has no rate yet (no average over the gap)", () => {
    const { out } = run([ok(0, worker(0, 0)), ok(1, worker(10, 0)), down(2), ok(3, worker(5, 1))]);
    const back = out.at(-1);
    expect(back?.report?.app).toBe("ready");
    expect(back?.report?.signals.requestRate).toBeUndefined();
    expect(back?.report?.signals.queueLength).toBe(1);
  });

  it("a not-ready app still reports its signals, marked notReady", () => {
    const { out } = run([ok(0, worker(0, 7), "notReady")]);
    expect(out[0]?.report).toMatchObject({ app: "notReady", signals: { queueLength: 7 } });
  });

  it("the leaving report repeats the last observation, marked leaving", () => {
    const { state } = run([ok(0, worker(0, 2)), ok(0.25, worker(5, 4))]);
    const r = leavingReport(state, identity, T0 + 400);
    expect(r).toMatchObject({
      leaving: true,
      app: "ready",
      signals: { queueLength: 4, requestRate: 20 },
    });
    expect(leavingReport(INITIAL_STATE, identity, T0)).toMatchObject({
      leaving: true,
      app: "unreachable",
    });
  });
});
