import { describe, expect, it } from "vitest";
import {
  type AggregatedPoint,
  type DecideInput,
  decide,
  historyHorizonMs,
  type PolicyState,
} from "../../../../sidecar/policy/index.ts";
import {
  ScalingPolicySpec,
  type ScalingPolicySpecInput,
} from "../../../../sidecar/protocol/policy.ts";
import type { SignalName } from "../../../../sidecar/protocol/signals.ts";

const NOW = Date.UTC(2026, 0, 5, 12, 0, 0); // a Monday, 12:00 UTC

function policy(extra: Partial<ScalingPolicySpecInput> = {}) {
  return ScalingPolicySpec.parse({
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
    maxReplicas: 100,
    metrics: [{ name: "requestRate", averageValue: 100 }],
    ...extra,
  });
}

/** 1 s reports for `seconds` up to NOW, all `pods` reporting, with these totals. */
function steady(
  signals: Partial<Record<SignalName, number>>,
  pods: number,
  seconds = 60,
  end = NOW,
): AggregatedPoint[] {
  const out: AggregatedPoint[] = [];
  for (let s = seconds - 1; s >= 0; s--)
    out.push({ t: end - s * 1000, pods, ready: pods, signals: { ...signals } });
  return out;
}

/** A state whose scale-down window saw nothing above `replicas` (as if running a long time). */
function settled(replicas: number): PolicyState {
  return { recommendations: [{ t: NOW - 600_000, replicas }], scaleEvents: [] };
}

function run(
  p: ReturnType<typeof policy>,
  history: AggregatedPoint[],
  current: number,
  extra: Partial<DecideInput> = {},
) {
  return decide({
    policy: p,
    history,
    currentReplicas: current,
    readyReplicas: current,
    state: settled(current),
    now: NOW,
    ...extra,
  });
}

describe("demand-based sizing (HPA algorithm: desired = ceil(current × value / target))", () => {
  it.each([
    // the docs: "200m vs 100m → doubled", "50m vs 100m → halved", on an AverageValue target
    ["per-pod value twice the target doubles", 4, 800, 8, undefined],
    ["per-pod value half the target halves", 4, 200, 2, undefined],
    ["fractions round up", 10, 1410, 15, undefined],
    ["a ratio within the tolerance (1.05) keeps the size", 4, 420, 4, "tolerance"],
    ["a ratio within the tolerance (0.92) keeps the size", 4, 370, 4, "tolerance"],
    ["a ratio just past the tolerance (1.15) scales", 10, 1150, 12, undefined],
  ] as const)("%s", (_name, current, total, expected, by) => {
    const d = run(
      policy({ behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }),
      steady({ requestRate: total }, current),
      current,
    );
    expect(d.desiredReplicas).toBe(expected);
    expect(d.limitedBy).toBe(by);
  });

  it("tolerance is per direction", () => {
    const p = policy({
      behavior: {
        scaleUp: { tolerance: 0 },
        scaleDown: { tolerance: 0.5, stabilizationWindowSeconds: 0 },
      },
    });
    expect(run(p, steady({ requestRate: 1050 }, 10), 10).desiredReplicas).toBe(11);
    expect(run(p, steady({ requestRate: 600 }, 10), 10).desiredReplicas).toBe(10);
  });

  it("several metrics: the largest recommendation (max fusion)", () => {
    const p = policy({
      metrics: [
        { name: "requestRate", averageValue: 100 },
        { name: "inFlight", averageValue: 10 },
      ],
    });
    const d = run(p, steady({ requestRate: 1000, inFlight: 150 }, 10), 10);
    expect(d.desiredReplicas).toBe(15);
  });

  it("several metrics: weighted fusion", () => {
    const p = policy({
      fusion: "weighted",
      metrics: [
        { name: "requestRate", averageValue: 100, weight: 3 },
        { name: "inFlight", averageValue: 10, weight: 1 },
      ],
    });
    // (3 × 8 + 1 × 16) / 4 = 10
    const d = run(p, steady({ requestRate: 800, inFlight: 160 }, 5), 5);
    expect(d.desiredReplicas).toBe(10);
  });

  it("the reason carries the numbers", () => {
    const d = run(policy(), steady({ requestRate: 800 }, 4), 4);
    expect(d.reason).toContain("requestRate 800");
    expect(d.reason).toContain("scale 4 → 8");
  });
});

describe("silent pods and missing data", () => {
  it("a ready pod that stopped reporting is not read as zero load", () => {
    const history = steady({ requestRate: 300 }, 3).map((p) => ({ ...p, ready: 4 }));
    // 3 of 4 ready pods report 100/s each: the workload gets 400/s, on 4 pods → keep 4
    expect(run(policy(), history, 4).desiredReplicas).toBe(4);
  });

  it.each([
    // HPA replica_calculator.go: pods without metrics count at 0 for a scale-up, at the target
    // for a scale-down; between the two, the current size stays.
    {
      name: "two of three just started, the old one saw 300/s: no scale-up on an average",
      reporting: 1,
      ready: 3,
      sum: 300,
      current: 3,
      want: 3,
    },
    {
      name: "three of four silent, one saw 100/s: no scale-down below the silent at target",
      reporting: 1,
      ready: 4,
      sum: 100,
      current: 4,
      want: 4,
    },
    {
      name: "the reporters alone ask for more: scale up on what is known",
      reporting: 1,
      ready: 2,
      sum: 500,
      current: 2,
      want: 5,
    },
    {
      name: "low even with the silent at target: scale down that far",
      reporting: 2,
      ready: 6,
      sum: 20,
      current: 6,
      want: 5,
    },
  ])("missing pods bracketed: $name", ({ reporting, ready, sum, current, want }) => {
    const history = steady({ requestRate: sum }, reporting).map((p) => ({ ...p, ready }));
    expect(run(policy(), history, current, { readyReplicas: ready }).desiredReplicas).toBe(want);
  });

  it("without `ready` on the points, a pod that reported recently is still counted", () => {
    const history = steady({ requestRate: 400 }, 4, 30, NOW - 3000).map(({ ready: _r, ...p }) => p);
    history.push(...steady({ requestRate: 300 }, 3, 3).map(({ ready: _r, ...p }) => p));
    expect(run(policy(), history, 4).desiredReplicas).toBe(4);
  });

  it("pods that just became ready and have not reported are not extrapolated", () => {
    // 4 pods reported 800/s, then 4 more became ready: do not read 1600/s
    const history = steady({ requestRate: 800 }, 4).map(({ ready: _r, ...p }) => p);
    expect(run(policy(), history, 8, { readyReplicas: 8 }).desiredReplicas).toBe(8);
  });

  it.each([
    ["no history", [] as AggregatedPoint[], "no reports yet"],
    ["stale history", steady({ requestRate: 5000 }, 4, 30, NOW - 10_000), "no fresh reports"],
    ["points with no reporting pod", steady({ requestRate: 5000 }, 0), "no reports yet"],
  ])("%s: hold", (_name, history, text) => {
    const d = run(policy(), history, 4);
    expect(d.desiredReplicas).toBe(4);
    expect(d.limitedBy).toBe("noData");
    expect(d.reason).toContain(text);
  });

  it("a metric with no data blocks scale-down but not scale-up", () => {
    const p = policy({
      behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
      metrics: [
        { name: "requestRate", averageValue: 100 },
        { name: "queueLength", averageValue: 10 },
      ],
    });
    const low = run(p, steady({ requestRate: 100 }, 10), 10);
    expect(low.desiredReplicas).toBe(10);
    expect(low.limitedBy).toBe("missingMetric");
    expect(run(p, steady({ requestRate: 1500 }, 10), 10).desiredReplicas).toBe(15);
  });
});

describe("behavior inside decide()", () => {
  it("scale-up is limited by the default rate policies (100% or 4 pods per 15 s)", () => {
    const d = run(policy(), steady({ requestRate: 5000 }, 4), 4);
    expect(d.desiredReplicas).toBe(8);
    expect(d.limitedBy).toBe("scaleUp.policies");
    expect(d.reason).toContain("100%/15s");
  });

  it("scale-down waits for the highest recommendation of the last 300 s", () => {
    const state: PolicyState = {
      recommendations: [
        { t: NOW - 200_000, replicas: 9 },
        { t: NOW - 100_000, replicas: 7 },
      ],
      scaleEvents: [],
    };
    const d = run(policy(), steady({ requestRate: 200 }, 10), 10, { state });
    expect(d.desiredReplicas).toBe(9);
    expect(d.limitedBy).toBe("stabilization");
    expect(d.recommendation).toBe(2);
  });

  it("the first call treats the current size as a recommendation (no scale-down on start)", () => {
    const d = decide({
      policy: policy(),
      history: steady({ requestRate: 200 }, 10),
      currentReplicas: 10,
      readyReplicas: 10,
      now: NOW,
    });
    expect(d.desiredReplicas).toBe(10);
    expect(d.state.recommendations.map((r) => r.replicas)).toEqual([10, 2]);
  });

  it("records applied changes as scale events, and the next call's rate limit sees them", () => {
    const first = run(policy(), steady({ requestRate: 5000 }, 4), 4);
    expect(first.state.scaleEvents).toEqual([{ t: NOW, delta: 4 }]);
    const second = decide({
      policy: policy(),
      history: steady({ requestRate: 5000 }, 8, 60, NOW + 5000),
      currentReplicas: 8,
      readyReplicas: 8,
      state: first.state,
      now: NOW + 5000,
    });
    // period start was 4: 100% → 8, 4 + 4 → 8
    expect(second.desiredReplicas).toBe(8);
    expect(second.limitedBy).toBe("scaleUp.policies");
  });
});

describe("bounds", () => {
  it.each([
    ["demand above maxReplicas", { maxReplicas: 6 }, 5, 5000, 6, "maxReplicas"],
    [
      "demand below minReplicas",
      { minReplicas: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } },
      5,
      10,
      3,
      "minReplicas",
    ],
    ["current above maxReplicas", { maxReplicas: 6 }, 9, 900, 6, "maxReplicas"],
    ["current below minReplicas", { minReplicas: 3 }, 2, 200, 3, "minReplicas"],
  ] as const)("%s", (_name, extra, current, total, expected, by) => {
    const d = run(policy(extra), steady({ requestRate: total }, current), current);
    expect(d.desiredReplicas).toBe(expected);
    expect(d.limitedBy).toBe(by);
  });

  it("a target scaled to zero by someone else is left alone (as the HPA)", () => {
    const d = run(policy(), steady({ requestRate: 500 }, 1), 0);
    expect(d).toMatchObject({ desiredReplicas: 0, limitedBy: "scaledToZero" });
  });
});

describe("drain hold", () => {
  // 200/s arriving on 10 pods that could carry 50 at 100 per pod: the windows allow 2 now
  const p = policy({
    drain: { queueSeconds: 0.2 },
    behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
  });
  it.each([
    [
      "a queue of 0.5 s of work holds the size",
      { queueLength: 100, completionRate: 200 },
      10,
      "drain",
    ],
    ["0.2 s of work or less does not", { queueLength: 40, completionRate: 200 }, 2, undefined],
    ["no queue does not", { queueLength: 0, completionRate: 200 }, 2, undefined],
    ["a queue with nothing completed holds", { queueLength: 5, completionRate: 0 }, 10, "drain"],
    ["without completionRate it cannot tell, and does not", { queueLength: 100 }, 2, undefined],
  ] as const)("%s", (_name, signals, expected, by) => {
    const d = run(p, steady({ requestRate: 200, ...signals }, 10), 10);
    expect(d.desiredReplicas).toBe(expected);
    expect(d.limitedBy).toBe(by);
    if (by) expect(d.reason).toContain("drain: no scale-down to 2 while");
  });

  it("never raises the size, and is off without `drain`", () => {
    const up = run(
      p,
      steady({ requestRate: 2000, queueLength: 900, completionRate: 1000 }, 10),
      10,
    );
    expect(up.desiredReplicas).toBe(20);
    const off = policy({ behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } });
    const d = run(off, steady({ requestRate: 200, queueLength: 100, completionRate: 200 }, 10), 10);
    expect(d.desiredReplicas).toBe(2);
  });

  it("a queue last reported 6 s ago (older than staleAfterSeconds) does not hold", () => {
    const history = [
      ...steady({ requestRate: 200, queueLength: 100, completionRate: 200 }, 10, 54, NOW - 6000),
      ...steady({ requestRate: 200, completionRate: 200 }, 10, 6),
    ];
    expect(run(p, history, 10).desiredReplicas).toBe(2);
  });
});

describe("backlog", () => {
  const p = policy({
    metrics: [{ name: "requestRate", averageValue: 10 }],
    backlog: { drainSeconds: 10 },
    coldStartSeconds: 10,
    behavior: { scaleUp: { policies: [{ type: "Percent", value: 1000, periodSeconds: 15 }] } },
  });

  it("sizes to serve arrivals and drain the queue expected when new capacity lands", () => {
    // 10 saturated pods complete 10/s each and 100/s arrive: the queue of 600 stays 600 until
    // new capacity lands; (100 + 600/10) / 10 = 16
    const d = run(p, steady({ requestRate: 100, completionRate: 100, queueLength: 600 }, 10), 10);
    expect(d.desiredReplicas).toBe(16);
    expect(d.limitedBy).toBe("backlog");
    expect(d.reason).toContain("backlog 600 queued");
  });

  it("counts the queue's growth until new capacity lands", () => {
    // 120/s arrive, 100/s are served: 600 + 20 × 10 = 800 by then; (120 + 80) / 10 = 20
    const d = run(p, steady({ requestRate: 120, completionRate: 100, queueLength: 600 }, 10), 10);
    expect(d.desiredReplicas).toBe(20);
  });

  it("counts replicas already starting", () => {
    // 10 ready, 20 asked for 4 s ago (ready in 6 s): 600 + 20 × 6 - 80 × 4 = 400 → (120 + 40) / 10 = 16,
    // fewer than the 20 already there, which stay (no scale-down while the queue drains)
    const state: PolicyState = { ...settled(20), scaleEvents: [{ t: NOW - 4000, delta: 10 }] };
    const d = run(p, steady({ requestRate: 120, completionRate: 100, queueLength: 600 }, 10), 20, {
      readyReplicas: 10,
      state,
    });
    expect(d.desiredReplicas).toBe(20);
    expect(d.reason).toContain("(400 expected in 10s)");
  });

  it("makes no scale-down while a queue drains, and lets go once it has drained", () => {
    const fast = policy({
      metrics: [{ name: "requestRate", averageValue: 10 }],
      backlog: { drainSeconds: 10 },
      behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
    });
    const draining = run(
      fast,
      steady({ requestRate: 100, completionRate: 300, queueLength: 900 }, 30),
      30,
    );
    expect(draining.desiredReplicas).toBe(30);
    const drained = run(
      fast,
      steady({ requestRate: 100, completionRate: 100, queueLength: 0 }, 30),
      30,
    );
    expect(drained.desiredReplicas).toBe(10);
  });

  it("the first second of a surge uses the service rate remembered from the last saturation", () => {
    // pods were not saturated until the newest report: the window's 8.4/s per pod understates them
    const history = steady(
      { requestRate: 100, completionRate: 80, queueLength: 0 },
      10,
      59,
      NOW - 1000,
    );
    history.push({
      t: NOW,
      pods: 10,
      ready: 10,
      signals: { requestRate: 100, completionRate: 100, queueLength: 600 },
    });
    const remembered: PolicyState = {
      ...settled(10),
      serviceRate: { perPod: 10, t: NOW - 60_000 },
    };
    // (100 + 600/10) / 10 = 16 with the remembered 10/s
    expect(run(p, history, 10, { state: remembered }).desiredReplicas).toBe(16);
  });

  it("does not size a queue on completions of pods never seen saturated", () => {
    // Unsaturated pods complete what arrives: 8.4/s per pod says nothing of their capacity, and
    // sizing on it (as 21 replicas here) flapped the live demo from 1 to 12 replicas and back.
    const history = steady(
      { requestRate: 100, completionRate: 80, queueLength: 0 },
      10,
      59,
      NOW - 1000,
    );
    history.push({
      t: NOW,
      pods: 10,
      ready: 10,
      signals: { requestRate: 100, completionRate: 100, queueLength: 600 },
    });
    const d = run(p, history, 10);
    expect(d.reason).not.toContain("backlog");
    expect(d.desiredReplicas).toBeLessThan(21);
  });

  it("a saturated interval replaces the remembered service rate, even when lower", () => {
    const history = steady({ requestRate: 100, completionRate: 60, queueLength: 600 }, 10);
    const remembered: PolicyState = {
      ...settled(10),
      serviceRate: { perPod: 10, t: NOW - 60_000 },
    };
    expect(run(p, history, 10, { state: remembered }).state.serviceRate).toEqual({
      perPod: 6,
      t: NOW,
    });
  });

  it("ignores a queue shorter than 100 ms of work", () => {
    const d = run(p, steady({ requestRate: 100, completionRate: 100, queueLength: 5 }, 10), 10);
    expect(d.desiredReplicas).toBe(10);
  });
});

describe("lookahead", () => {
  const p = policy({
    metrics: [{ name: "requestRate", averageValue: 100 }],
    coldStartSeconds: 10,
    lookahead: { windowSeconds: 30, maxFactor: 2 },
    windowSeconds: 5,
  });
  const ramp = (slope: number) =>
    Array.from({ length: 40 }, (_, i) => ({
      t: NOW - (39 - i) * 1000,
      pods: 10,
      ready: 10,
      signals: { requestRate: 1000 + slope * (i - 39) },
    }));

  it("rising demand: sizes for the demand one cold start (and a report) ahead", () => {
    // now 1000/s, +20/s → 1240/s in 10 + 2 s → 13
    const d = run(p, ramp(20), 10);
    expect(d.desiredReplicas).toBe(13);
    expect(d.reason).toContain("forecast 1240 in 12s");
  });

  it("a one-off step is not a trend", () => {
    const step = Array.from({ length: 40 }, (_, i) => ({
      t: NOW - (39 - i) * 1000,
      pods: 10,
      ready: 10,
      signals: { requestRate: i < 30 ? 1000 : 1100 },
    }));
    expect(run(p, step, 10).reason).not.toContain("forecast");
  });

  it("the forecast is bounded by maxFactor × demand now", () => {
    expect(run(p, ramp(500), 10).desiredReplicas).toBe(20);
  });

  it("falling demand: no forecast (upward only)", () => {
    const d = run(p, ramp(-20), 10);
    expect(d.desiredReplicas).toBe(10);
    expect(d.reason).not.toContain("forecast");
  });
});

describe("panic", () => {
  const p = policy({
    panic: { windowSeconds: 6, threshold: 2, stableWindowSeconds: 60 },
    windowSeconds: 60,
    behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
  });
  // 54 s at 1000/s then 6 s at 5000/s
  const surge = [
    ...steady({ requestRate: 1000 }, 10, 54, NOW - 6000),
    ...steady({ requestRate: 5000 }, 10, 6),
  ];

  it("scales on the short window at once, past the rate policies", () => {
    const d = run(p, surge, 10);
    expect(d.panic).toBe(true);
    expect(d.desiredReplicas).toBe(50);
    expect(d.limitedBy).toBe("panic");
  });

  it("makes no scale-down while panicking", () => {
    const first = run(p, surge, 10);
    const calm = steady({ requestRate: 100 }, 50, 60, NOW + 20_000);
    const d = decide({
      policy: p,
      history: calm,
      currentReplicas: 50,
      readyReplicas: 50,
      state: first.state,
      now: NOW + 20_000,
    });
    expect(d.panic).toBe(true);
    expect(d.desiredReplicas).toBe(50);
  });

  it("ends once demand stayed under the threshold for the stable window", () => {
    const first = run(p, surge, 10);
    const later = NOW + 61_000;
    const calm = steady({ requestRate: 100 }, 50, 60, later);
    const d = decide({
      policy: p,
      history: calm,
      currentReplicas: 50,
      readyReplicas: 50,
      state: first.state,
      now: later,
    });
    expect(d.panic).toBe(false);
    expect(d.reason).toContain("panic over");
    expect(d.desiredReplicas).toBeLessThan(50);
  });

  it("does not panic under the threshold", () => {
    const mild = [
      ...steady({ requestRate: 1000 }, 10, 54, NOW - 6000),
      ...steady({ requestRate: 1500 }, 10, 6),
    ];
    expect(run(p, mild, 10).panic).toBe(false);
  });
});

describe("floors and schedules", () => {
  it("an API floor raises the size until it expires", () => {
    const floors = [{ replicas: 30, expiresAt: NOW + 60_000, reason: "launch" }];
    const d = run(policy(), steady({ requestRate: 1000 }, 10), 10, { floors });
    expect(d).toMatchObject({ desiredReplicas: 30, limitedBy: "floor" });
    expect(d.reason).toContain("launch");
    const expired = [{ replicas: 30, expiresAt: NOW, reason: "launch" }];
    expect(
      run(policy(), steady({ requestRate: 1000 }, 10), 10, { floors: expired }).desiredReplicas,
    ).toBe(10);
  });

  it("a floor is capped at maxReplicas", () => {
    const floors = [{ replicas: 300, expiresAt: NOW + 60_000, reason: "launch" }];
    expect(run(policy(), steady({ requestRate: 1000 }, 10), 10, { floors }).desiredReplicas).toBe(
      100,
    );
  });

  it.each([
    ["inside the range", "11:30", "12:30", undefined, 20],
    ["outside the range", "13:00", "14:00", undefined, 10],
    ["a range across midnight, not now", "23:00", "01:00", undefined, 10],
    ["on a listed day (Mon)", "11:00", "13:00", ["Mon"], 20],
    ["on an unlisted day", "11:00", "13:00", ["Sat", "Sun"], 10],
  ] as const)("schedule %s", (_name, start, end, days, expected) => {
    const p = policy({
      prescale: {
        schedules: [
          { name: "peak", start, end, replicas: 20, ...(days ? { days: [...days] } : {}) },
        ],
      },
    });
    expect(run(p, steady({ requestRate: 1000 }, 10), 10).desiredReplicas).toBe(expected);
  });

  it("a range across midnight is active after midnight, on the day it started", () => {
    const p = policy({
      prescale: {
        schedules: [{ name: "night", start: "23:00", end: "01:00", days: ["Sun"], replicas: 20 }],
      },
    });
    const monday0030 = Date.UTC(2026, 0, 5, 0, 30);
    const d = run(p, steady({ requestRate: 1000 }, 10, 60, monday0030), 10, { now: monday0030 });
    expect(d.desiredReplicas).toBe(20);
  });
});

describe("dryRun", () => {
  it("decides and explains, flags dryRun and records no scale event", () => {
    const d = run(policy({ mode: "dryRun" }), steady({ requestRate: 800 }, 4), 4);
    expect(d).toMatchObject({ desiredReplicas: 8, dryRun: true });
    expect(d.state.scaleEvents).toEqual([]);
    expect(d.reason).toContain("dryRun");
  });
});

describe("stages", () => {
  const surge = [
    ...steady({ requestRate: 1000 }, 10, 54, NOW - 6000),
    ...steady({ requestRate: 5000 }, 10, 6),
  ];
  it.each([
    [
      "a plain HPA policy",
      policy(),
      steady({ requestRate: 2000 }, 10),
      10,
      [
        ["recommend", 20, undefined],
        ["backlog", 20, undefined],
        ["stabilize", 20, undefined],
        ["rateLimit", 20, undefined],
        ["floors", 20, undefined],
      ],
    ],
    [
      "a rate policy limits the step up",
      policy(),
      steady({ requestRate: 5000 }, 10),
      10,
      [
        ["recommend", 50, undefined],
        ["backlog", 50, undefined],
        ["stabilize", 50, undefined],
        ["rateLimit", 20, "scaleUp.policies"],
        ["floors", 20, undefined],
      ],
    ],
    [
      "panic takes the place of the rate policies",
      policy({ panic: {}, windowSeconds: 60 }),
      surge,
      10,
      [
        // the 60 s time-weighted average is 1356/s: 14
        ["recommend", 14, undefined],
        ["backlog", 14, undefined],
        ["stabilize", 14, undefined],
        ["panic", 50, "panic"],
        ["floors", 50, undefined],
      ],
    ],
    [
      "the scale-down window holds",
      policy(),
      steady({ requestRate: 500 }, 10),
      10,
      [
        ["recommend", 5, undefined],
        ["backlog", 5, undefined],
        ["stabilize", 10, "stabilization"],
        ["rateLimit", 10, undefined],
        ["floors", 10, undefined],
      ],
    ],
    [
      "a target above maxReplicas goes to bounds, then floors",
      policy(),
      steady({ requestRate: 500 }, 120),
      120,
      [
        ["bounds", 100, "maxReplicas"],
        ["floors", 100, undefined],
      ],
    ],
    [
      "no data holds at recommend",
      policy(),
      [],
      10,
      [
        ["recommend", 10, "noData"],
        ["floors", 10, undefined],
      ],
    ],
  ] as const)("%s", (_name, p, history, current, expected) => {
    const d = decide({
      policy: p,
      history,
      currentReplicas: current,
      readyReplicas: current,
      state: { recommendations: [{ t: NOW - 1000, replicas: current }], scaleEvents: [] },
      now: NOW,
    });
    expect(d.stages.map((s) => [s.stage, s.replicas, s.limitedBy])).toEqual(expected);
  });

  it("every stage says what it saw; only those that acted are in the reason", () => {
    const d = run(policy(), steady({ requestRate: 2000 }, 10), 10);
    expect(d.stages.find((s) => s.stage === "backlog")?.note).toBe("off in this policy");
    expect(d.stages.find((s) => s.stage === "floors")?.note).toBe("no floor in force");
    expect(d.reason).not.toContain("no floor in force");
    expect(d.stages[0]?.note).toContain("requestRate 2000");
  });
});

describe("historyHorizonMs", () => {
  it("covers the longest window the policy reads", () => {
    expect(historyHorizonMs(policy())).toBeGreaterThanOrEqual(10_000);
    expect(historyHorizonMs(policy({ lookahead: { windowSeconds: 120 } }))).toBeGreaterThanOrEqual(
      120_000,
    );
  });

  it("is enough: trimming history to it changes no decision", () => {
    const p = policy({ lookahead: { windowSeconds: 30 }, panic: {}, windowSeconds: 20 });
    const long = Array.from({ length: 300 }, (_, i) => ({
      t: NOW - (299 - i) * 1000,
      pods: 10,
      ready: 10,
      signals: { requestRate: 1000 + 400 * Math.sin(i / 17) },
    }));
    const trimmed = long.filter((pt) => pt.t > NOW - historyHorizonMs(p));
    expect(run(p, trimmed, 10)).toEqual(run(p, long, 10));
  });
});
