/**
 * Conformance with the Kubernetes HPA's own test tables for the behavior math, transcribed as
 * data (the cases, not the code) from kubernetes/kubernetes
 * pkg/controller/podautoscaler/horizontal_test.go: TestScalingWithRules (rate policies, their
 * periods and past scale events, and the min/max bounds: convertDesiredReplicasWithBehaviorRate),
 * TestCalculateScaleUpLimitWithScalingRules, TestCalculateScaleDownLimitWithBehaviors and
 * TestNormalizeDesiredReplicas (the scale-down stabilization window).
 * Left out: "prenormalized desired replicas within range when minReplicas is 0" (swell's
 * minReplicas is at least 1). The HPA's condition maps to swell's limitedBy: DesiredWithinRange →
 * none, TooFewReplicas → minReplicas, TooManyReplicas → maxReplicas, ScaleUpLimit →
 * scaleUp.policies, ScaleDownLimit → scaleDown.policies.
 */
import { describe, expect, it } from "vitest";
import {
  limitRate,
  scaleDownLimit,
  scaleUpLimit,
  stabilize,
} from "../../../../sidecar/policy/index.ts";
import { withTolerance } from "../../../../sidecar/policy/recommend.ts";
import type { ScaleEvent } from "../../../../sidecar/policy/types.ts";
import { ScalingPolicySpec, type ScalingRules } from "../../../../sidecar/protocol/policy.ts";

const NOW = 1_800_000_000_000;
const policy = ScalingPolicySpec.parse({
  targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "x" },
  maxReplicas: 100,
  metrics: [{ name: "requestRate", averageValue: 1 }],
});
/** The HPA's defaults (GenerateHPAScaleUpRules/GenerateHPAScaleDownRules of nil) are swell's. */
const { scaleUp: defaultUp, scaleDown: defaultDown } = policy.behavior;

/** The test file's generateScalingRules(pods, podsPeriod, percent, percentPeriod, window), selectPolicy Max. */
function rules(
  pods: number,
  podsPeriod: number,
  percent: number,
  percentPeriod: number,
  window: number,
): ScalingRules {
  const policies: ScalingRules["policies"] = [];
  if (pods !== 0) policies.push({ type: "Pods", value: pods, periodSeconds: podsPeriod });
  if (percent !== 0)
    policies.push({ type: "Percent", value: percent, periodSeconds: percentPeriod });
  return { stabilizationWindowSeconds: window, selectPolicy: "Max", policies, tolerance: 0.1 };
}

/**
 * The test file's generateEventsUniformDistribution: the last `period` seconds cut into as many
 * segments as events, each event in the middle of its segment, the first the oldest.
 */
function uniform(changes: number[], period: number, sign: 1 | -1): ScaleEvent[] {
  const seg = period / changes.length;
  return changes.map((c, i) => ({
    t: NOW - (period - seg * (i + 1) + seg / 2) * 1000,
    delta: sign * c,
  }));
}

type Case = {
  name: string;
  current: number;
  desired: number;
  min: number;
  max: number;
  up?: ScalingRules;
  down?: ScalingRules;
  ups?: number[];
  downs?: number[];
  expected: number;
  condition:
    | "DesiredWithinRange"
    | "TooFewReplicas"
    | "TooManyReplicas"
    | "ScaleUpLimit"
    | "ScaleDownLimit";
};

const cases: Case[] = [
  {
    name: "prenormalized desired replicas within range",
    current: 5,
    desired: 7,
    min: 3,
    max: 8,
    expected: 7,
    condition: "DesiredWithinRange",
  },
  {
    name: "prenormalized desired replicas < minReplicas",
    current: 3,
    desired: 1,
    min: 2,
    max: 8,
    expected: 2,
    condition: "TooFewReplicas",
  },
  {
    name: "maxReplicas is the limit because maxReplicas < scaleUpLimit",
    current: 20,
    desired: 1000,
    min: 1,
    max: 10,
    expected: 10,
    condition: "TooManyReplicas",
  },
  {
    name: "desired replica count is more than the maximum replica count",
    current: 100,
    desired: 1000,
    min: 100,
    max: 150,
    expected: 150,
    condition: "TooManyReplicas",
  },
  {
    name: "scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies",
    current: 3,
    desired: 1000,
    min: 1,
    max: 2000,
    up: rules(0, 0, 1, 60, 0),
    expected: 4,
    condition: "ScaleUpLimit",
  },
  {
    name: "scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined policies",
    current: 1000,
    desired: 3,
    min: 3,
    max: 2000,
    down: rules(20, 60, 0, 0, 0),
    expected: 980,
    condition: "ScaleDownLimit",
  },
  {
    name: "scaleUp with default behavior",
    current: 10,
    desired: 50,
    min: 1,
    max: 1000,
    expected: 20,
    condition: "ScaleUpLimit",
  },
  {
    name: "scaleUp with pods policy larger than percent policy",
    current: 10,
    desired: 500,
    min: 1,
    max: 1000,
    up: rules(100, 60, 100, 60, 0),
    expected: 110,
    condition: "ScaleUpLimit",
  },
  {
    name: "scaleUp with percent policy larger than pods policy",
    current: 10,
    desired: 500,
    min: 1,
    max: 1000,
    up: rules(2, 60, 100, 60, 0),
    expected: 20,
    condition: "ScaleUpLimit",
  },
  {
    name: "scaleUp with spec MaxReplicas limitation with large pod policy",
    current: 10,
    desired: 50,
    min: 1,
    max: 1000,
    up: rules(100, 60, 0, 0, 0),
    expected: 50,
    condition: "DesiredWithinRange",
  },
  {
    name: "scaleUp with spec MaxReplicas limitation with large percent policy",
    current: 10,
    desired: 50,
    min: 1,
    max: 1000,
    up: rules(10000, 60, 0, 0, 0),
    expected: 50,
    condition: "DesiredWithinRange",
  },
  {
    name: "scaleUp with pod policy limitation",
    current: 10,
    desired: 50,
    min: 1,
    max: 1000,
    up: rules(30, 60, 0, 0, 0),
    expected: 40,
    condition: "ScaleUpLimit",
  },
  {
    name: "scaleUp with percent policy limitation",
    current: 10,
    desired: 50,
    min: 1,
    max: 1000,
    up: rules(0, 0, 200, 60, 0),
    expected: 30,
    condition: "ScaleUpLimit",
  },
  {
    name: "scaleDown with percent policy larger than pod policy",
    current: 100,
    desired: 2,
    min: 1,
    max: 1000,
    down: rules(20, 60, 1, 60, 300),
    expected: 80,
    condition: "ScaleDownLimit",
  },
  {
    name: "scaleDown with pod policy larger than percent policy",
    current: 100,
    desired: 2,
    min: 1,
    max: 1000,
    down: rules(2, 60, 1, 60, 300),
    expected: 98,
    condition: "ScaleDownLimit",
  },
  {
    name: "scaleDown with spec MinReplicas=nil limitation with large pod policy",
    current: 10,
    desired: 0,
    min: 1,
    max: 1000,
    down: rules(100, 60, 0, 0, 300),
    expected: 1,
    condition: "TooFewReplicas",
  },
  {
    name: "scaleDown with spec MinReplicas limitation with large percent policy",
    current: 10,
    desired: 2,
    min: 5,
    max: 1000,
    down: rules(0, 0, 100, 60, 300),
    expected: 5,
    condition: "TooFewReplicas",
  },
  {
    name: "scaleDown with pod policy limitation",
    current: 10,
    desired: 2,
    min: 1,
    max: 1000,
    down: rules(5, 60, 0, 0, 300),
    expected: 5,
    condition: "ScaleDownLimit",
  },
  {
    name: "scaleDown with percent policy limitation",
    current: 10,
    desired: 5,
    min: 1,
    max: 1000,
    down: rules(0, 0, 50, 60, 300),
    expected: 5,
    condition: "DesiredWithinRange",
  },
  {
    name: "scaleUp with spec MaxReplicas limitation with large pod policy and events",
    ups: [1, 5, 9],
    current: 100,
    desired: 500,
    min: 1,
    max: 200,
    up: rules(300, 60, 0, 0, 0),
    expected: 200,
    condition: "TooManyReplicas",
  },
  {
    name: "scaleUp with spec MaxReplicas limitation with large percent policy and events",
    ups: [1, 5, 9],
    current: 100,
    desired: 500,
    min: 1,
    max: 200,
    up: rules(0, 0, 10000, 60, 0),
    expected: 200,
    condition: "TooManyReplicas",
  },
  {
    name: "scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events",
    ups: [1, 5, 9],
    current: 100,
    desired: 500,
    min: 1,
    max: 1000,
    up: rules(5, 120, 0, 0, 0),
    expected: 100,
    condition: "ScaleUpLimit",
  },
  {
    name: "scaleUp with pod policy and previous scale up events",
    ups: [1, 5, 9],
    current: 100,
    desired: 500,
    min: 1,
    max: 1000,
    up: rules(150, 120, 0, 0, 0),
    expected: 235,
    condition: "ScaleUpLimit",
  },
  {
    name: "scaleUp with percent policy and previous scale up events",
    ups: [1, 5, 9],
    current: 100,
    desired: 500,
    min: 1,
    max: 1000,
    up: rules(0, 0, 200, 120, 0),
    expected: 255,
    condition: "ScaleUpLimit",
  },
  {
    name: "scaleUp with percent policy and previous scale up and down events",
    ups: [4],
    downs: [2],
    current: 6,
    desired: 24,
    min: 1,
    max: 1000,
    up: rules(0, 0, 300, 300, 0),
    expected: 16,
    condition: "ScaleUpLimit",
  },
  {
    name: "scaleDown with default policy and previous events",
    downs: [1, 5, 9],
    current: 10,
    desired: 5,
    min: 1,
    max: 1000,
    expected: 5,
    condition: "DesiredWithinRange",
  },
  {
    name: "scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events",
    downs: [1, 5, 9],
    current: 100,
    desired: 0,
    min: 1,
    max: 1000,
    down: rules(115, 120, 0, 0, 300),
    expected: 1,
    condition: "TooFewReplicas",
  },
  {
    name: "scaleDown with spec MinReplicas limitation with large pod policy and previous events",
    downs: [1, 5, 9],
    current: 100,
    desired: 0,
    min: 5,
    max: 1000,
    down: rules(130, 120, 0, 0, 300),
    expected: 5,
    condition: "TooFewReplicas",
  },
  {
    name: "scaleDown with spec MinReplicas limitation with large percent policy and previous events",
    downs: [1, 5, 9],
    current: 100,
    desired: 2,
    min: 5,
    max: 1000,
    down: rules(0, 0, 100, 120, 300),
    expected: 5,
    condition: "TooFewReplicas",
  },
  {
    name: "scaleDown with pod policy limitation and previous events",
    downs: [1, 5, 9],
    current: 100,
    desired: 2,
    min: 1,
    max: 1000,
    down: rules(5, 120, 0, 0, 300),
    expected: 100,
    condition: "ScaleDownLimit",
  },
  {
    name: "scaleDown with percent policy limitation and previous events",
    downs: [2, 4, 6],
    current: 100,
    desired: 0,
    min: 1,
    max: 1000,
    down: rules(0, 0, 50, 120, 300),
    expected: 56,
    condition: "ScaleDownLimit",
  },
  {
    name: "scaleDown with percent policy and previous scale up and down events",
    ups: [2],
    downs: [4],
    current: 10,
    desired: 1,
    min: 1,
    max: 1000,
    down: rules(0, 0, 50, 180, 0),
    expected: 6,
    condition: "ScaleDownLimit",
  },
  {
    name: "scaleDown with previous events preventing further scale down",
    downs: [10, 10, 10],
    current: 100,
    desired: 0,
    min: 1,
    max: 1000,
    down: rules(0, 0, 10, 120, 300),
    expected: 100,
    condition: "ScaleDownLimit",
  },
  {
    name: "scaleDown with with previous events still allowing more scale down",
    downs: [10, 10, 10],
    current: 10,
    desired: 5,
    min: 1,
    max: 1000,
    down: rules(0, 0, 1000, 120, 300),
    expected: 5,
    condition: "DesiredWithinRange",
  },
  {
    name: "check 'outdated' flag for events for one behavior for up",
    ups: [8, 12, 9, 11],
    current: 100,
    desired: 200,
    min: 1,
    max: 1000,
    up: rules(1000, 60, 0, 0, 0),
    expected: 200,
    condition: "DesiredWithinRange",
  },
  {
    name: "check that events were not marked 'outdated' for two different policies in the behavior for up",
    ups: [8, 12, 9, 11],
    current: 100,
    desired: 200,
    min: 1,
    max: 1000,
    up: rules(1000, 120, 100, 60, 0),
    expected: 200,
    condition: "DesiredWithinRange",
  },
  {
    name: "check that events were marked 'outdated' for two different policies in the behavior for up",
    ups: [8, 12, 9, 11],
    current: 100,
    desired: 200,
    min: 1,
    max: 1000,
    up: rules(1000, 30, 100, 60, 0),
    expected: 200,
    condition: "DesiredWithinRange",
  },
  {
    name: "check 'outdated' flag for events for one behavior for down",
    downs: [8, 12, 9, 11],
    current: 100,
    desired: 5,
    min: 1,
    max: 1000,
    down: rules(1000, 60, 0, 0, 300),
    expected: 5,
    condition: "DesiredWithinRange",
  },
  {
    name: "check that events were not marked 'outdated' for two different policies in the behavior for down",
    downs: [8, 12, 9, 11],
    current: 100,
    desired: 5,
    min: 1,
    max: 1000,
    down: rules(1000, 120, 100, 60, 300),
    expected: 5,
    condition: "DesiredWithinRange",
  },
  {
    name: "check that events were marked 'outdated' for two different policies in the behavior for down",
    downs: [8, 12, 9, 11],
    current: 100,
    desired: 5,
    min: 1,
    max: 1000,
    down: rules(1000, 30, 100, 60, 300),
    expected: 5,
    condition: "DesiredWithinRange",
  },
];

const LIMITED_BY = {
  DesiredWithinRange: undefined,
  TooFewReplicas: "minReplicas",
  TooManyReplicas: "maxReplicas",
  ScaleUpLimit: "scaleUp.policies",
  ScaleDownLimit: "scaleDown.policies",
} as const;

describe("HPA conformance: TestScalingWithRules (horizontal_test.go)", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const events = [...uniform(c.ups ?? [], 120, 1), ...uniform(c.downs ?? [], 120, -1)];
    const r = limitRate(
      c.desired,
      c.current,
      events,
      c.up ?? defaultUp,
      c.down ?? defaultDown,
      c.min,
      c.max,
      NOW,
    );
    expect(r.replicas).toBe(c.expected);
    expect(r.limitedBy).toBe(LIMITED_BY[c.condition]);
  });
});

describe("HPA conformance: the tolerance (replica_calculator.go, Tolerances.isWithin)", () => {
  it.each([
    ["10 pods at 110 %: within 1 + 0.1, keep 10", 11, 10, 10],
    ["10 pods at 90 %: within 1 - 0.1, keep 10", 9, 10, 10],
    ["10 pods at 111 %: scale to 12", 11.1, 10, 12],
    ["10 pods at 89 %: scale to 9", 8.9, 10, 9],
  ] as const)("%s", (_name, raw, current, expected) => {
    expect(withTolerance(raw, current, policy).replicas).toBe(expected);
  });
});

describe("HPA conformance: TestCalculateScaleUpLimitWithScalingRules and its scale-down twin", () => {
  const minChange: ScalingRules = {
    stabilizationWindowSeconds: 300,
    selectPolicy: "Min",
    policies: [
      { type: "Pods", value: 2, periodSeconds: 60 },
      { type: "Percent", value: 50, periodSeconds: 60 },
    ],
    tolerance: 0.1,
  };
  it("scale-up from 1 with Min of 2 pods and 50 %: 2", () => {
    expect(scaleUpLimit(1, [], minChange, NOW)).toBe(2);
  });
  it("scale-down from 5 with Min of 2 pods and 50 %: 3", () => {
    expect(scaleDownLimit(5, [], minChange, NOW)).toBe(3);
  });
});

describe("HPA conformance: TestNormalizeDesiredReplicas (5 min scale-down stabilization)", () => {
  // The upstream function takes no current size; a current above every recommendation lets the
  // window alone decide, as there.
  const current = 50;
  const down = { ...defaultDown, stabilizationWindowSeconds: 300 };
  const up = { ...defaultUp, stabilizationWindowSeconds: 0 };
  it.each([
    ["empty log", [], 5, 5],
    [
      "stabilize",
      [
        [4, 2],
        [5, 1],
      ],
      3,
      5,
    ],
    [
      "no stabilize",
      [
        [1, 2],
        [2, 1],
      ],
      3,
      3,
    ],
    [
      "no stabilize - old recommendations",
      [
        [10, 10],
        [9, 9],
      ],
      3,
      3,
    ],
    [
      "stabilize - old recommendations",
      [
        [10, 10],
        [4, 1],
        [5, 2],
        [9, 9],
      ],
      3,
      5,
    ],
  ] as const)("%s", (_name, recs, desired, expected) => {
    const history = recs.map(([replicas, minutesAgo]) => ({
      t: NOW - minutesAgo * 60_000,
      replicas,
    }));
    expect(stabilize(history, desired, current, up, down, NOW).replicas).toBe(expected);
  });
});
