/**
 * HPA v2 behavior semantics, including the worked examples of the Kubernetes docs:
 * https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/
 */
import { describe, expect, it } from "vitest";
import {
  limitRate,
  scaleDownLimit,
  scaleUpLimit,
  stabilize,
} from "../../../../sidecar/policy/index.ts";
import { ScalingPolicySpec } from "../../../../sidecar/protocol/policy.ts";

const base = ScalingPolicySpec.parse({
  targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "x" },
  maxReplicas: 1000,
  metrics: [{ name: "requestRate", averageValue: 1 }],
});
const up = base.behavior.scaleUp;
const down = base.behavior.scaleDown;
const rules = (r: object) => ({ ...down, ...r });
const T = 1_000_000;

describe("scale-up limit (calculateScaleUpLimitWithScalingRules)", () => {
  it.each([
    // default: 100% or 4 pods per 15 s, Max
    [1, 5],
    [2, 6],
    [4, 8],
    [10, 20],
  ])("default policies from %i allow %i", (current, limit) => {
    expect(scaleUpLimit(current, [], up, T)).toBe(limit);
  });

  it("measures from the size at the start of the period", () => {
    // scaled 5 → 10 five seconds ago: 100% of 5 and 5 + 4 both allow no more than 10 in this period
    const events = [{ t: T - 5_000, delta: 5 }];
    expect(scaleUpLimit(10, events, up, T)).toBe(10);
    // once the event has left the 15 s period the limit is measured from 10 again
    expect(scaleUpLimit(10, events, up, T + 11_000)).toBe(20);
  });

  it("rounds Percent up so a small target can grow", () => {
    expect(
      scaleUpLimit(
        1,
        [],
        { ...up, policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] },
        T,
      ),
    ).toBe(2);
  });

  it("Min picks the policy with the smallest change", () => {
    expect(scaleUpLimit(10, [], { ...up, selectPolicy: "Min" }, T)).toBe(14);
  });

  it("Disabled allows no change", () => {
    expect(scaleUpLimit(10, [], { ...up, selectPolicy: "Disabled" }, T)).toBe(10);
  });
});

describe("scale-down limit: the docs' example (Pods 4 and Percent 10 per 60 s)", () => {
  const docs = rules({
    policies: [
      { type: "Pods", value: 4, periodSeconds: 60 },
      { type: "Percent", value: 10, periodSeconds: 60 },
    ],
  });

  it.each([
    // "if there are 80 replicas ... during the first step 8 replicas will be reduced"
    [80, 72],
    // "when the number of replicas is 72, 10% of the pods is 7.2 but the number is rounded up to 8"
    [72, 64],
    // "When the number of replicas falls below 40 the first policy (Pods) is applied and 4 replicas will be reduced at a time"
    [39, 35],
    [30, 26],
  ])("from %i allows %i", (current, limit) => {
    expect(scaleDownLimit(current, [], docs, T)).toBe(limit);
  });

  it("holds within the period after a step down", () => {
    const events = [{ t: T - 30_000, delta: -8 }];
    // period start was 80: both policies still allow at most 72
    expect(scaleDownLimit(72, events, docs, T)).toBe(72);
    expect(scaleDownLimit(72, events, docs, T + 31_000)).toBe(64);
  });

  it("selectPolicy Min takes the smallest change", () => {
    expect(scaleDownLimit(80, [], { ...docs, selectPolicy: "Min" }, T)).toBe(76);
  });

  it("the default (100% per 15 s) allows going straight to the recommendation", () => {
    expect(scaleDownLimit(80, [], down, T)).toBe(0);
  });
});

describe("limitRate with bounds (convertDesiredReplicasWithBehaviorRate)", () => {
  it.each([
    ["scale-up within the policies", 10, 18, 100, 18, undefined],
    ["scale-up over the policies", 10, 50, 100, 20, "scaleUp.policies"],
    ["scale-up over maxReplicas", 10, 50, 15, 15, "maxReplicas"],
    ["scale-down to minReplicas", 10, 1, 100, 3, "minReplicas"],
  ] as const)("%s", (_n, current, desired, max, expected, by) => {
    const r = limitRate(desired, current, [], up, down, 3, max, T);
    expect(r.replicas).toBe(expected);
    expect(r.limitedBy).toBe(by);
  });

  it("Disabled scale-down keeps the size (the docs' 'disable scale down' example)", () => {
    const r = limitRate(4, 10, [], up, { ...down, selectPolicy: "Disabled" }, 1, 100, T);
    expect(r).toMatchObject({ replicas: 10, limitedBy: "scaleDown.disabled" });
  });
});

describe("stabilization windows (stabilizeRecommendationWithBehaviors)", () => {
  const recs = [
    { t: T - 290_000, replicas: 12 },
    { t: T - 200_000, replicas: 9 },
    { t: T - 100_000, replicas: 7 },
  ];

  it("scale-down takes the highest recommendation within the window", () => {
    expect(stabilize(recs, 5, 10, up, down, T)).toEqual({ replicas: 10, heldBy: "scaleDown" });
    // once the 12 has left the 300 s window the highest is 9
    expect(stabilize(recs, 5, 10, up, down, T + 11_000)).toEqual({
      replicas: 9,
      heldBy: "scaleDown",
    });
  });

  it("a recommendation exactly at the cutoff is out of the window", () => {
    expect(stabilize([{ t: T - 300_000, replicas: 12 }], 5, 10, up, down, T).replicas).toBe(5);
  });

  it("scale-up takes the lowest recommendation within its window", () => {
    const upWin = { ...up, stabilizationWindowSeconds: 60 };
    const r = stabilize([{ t: T - 30_000, replicas: 12 }], 20, 10, upWin, down, T);
    expect(r).toEqual({ replicas: 12, heldBy: "scaleUp" });
  });

  it("scale-up with the default window (0) follows at once", () => {
    expect(stabilize(recs, 30, 10, up, down, T)).toEqual({ replicas: 30 });
  });
});
