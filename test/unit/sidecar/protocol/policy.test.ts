import { describe, expect, it } from "vitest";
import {
  formatPolicyIssues,
  ScalingPolicy,
  ScalingPolicySpec,
  scalingPolicyJsonSchema,
} from "../../../../sidecar/protocol/policy.ts";

const minimal = {
  targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
  maxReplicas: 10,
  metrics: [{ name: "requestRate", averageValue: 50 }],
};

function problems(spec: unknown): string[] {
  const r = ScalingPolicy.safeParse({
    apiVersion: "scaling.swell.dev/v1alpha1",
    kind: "ScalingPolicy",
    metadata: { name: "api" },
    spec,
  });
  return r.success ? [] : formatPolicyIssues(r.error);
}

describe("ScalingPolicySpec defaults", () => {
  const spec = ScalingPolicySpec.parse(minimal);

  it("are the HPA's documented defaults where the concept is shared", () => {
    expect(spec.minReplicas).toBe(1);
    expect(spec.behavior.scaleUp).toEqual({
      stabilizationWindowSeconds: 0,
      tolerance: 0.1,
      policies: [
        { type: "Percent", value: 100, periodSeconds: 15 },
        { type: "Pods", value: 4, periodSeconds: 15 },
      ],
      selectPolicy: "Max",
    });
    expect(spec.behavior.scaleDown).toEqual({
      stabilizationWindowSeconds: 300,
      tolerance: 0.1,
      policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
      selectPolicy: "Max",
    });
    expect(spec.mode).toBe("enforce");
    expect(spec.fusion).toBe("max");
  });

  it("leave swell's own rules off unless asked for", () => {
    expect(spec.panic).toBeUndefined();
    expect(spec.backlog).toBeUndefined();
    expect(spec.lookahead).toBeUndefined();
    expect(spec.prescale.schedules).toEqual([]);
  });

  it("fill a direction field by field (setting the window keeps the rate policies)", () => {
    const s = ScalingPolicySpec.parse({
      ...minimal,
      behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
    });
    expect(s.behavior.scaleDown.stabilizationWindowSeconds).toBe(60);
    expect(s.behavior.scaleDown.policies).toEqual([
      { type: "Percent", value: 100, periodSeconds: 15 },
    ]);
    expect(s.behavior.scaleUp.policies).toHaveLength(2);
  });

  it("default panic to Knative's values when the block is present", () => {
    const s = ScalingPolicySpec.parse({ ...minimal, panic: {} });
    expect(s.panic).toEqual({ windowSeconds: 6, threshold: 2, stableWindowSeconds: 60 });
  });
});

describe("ScalingPolicy validation", () => {
  it.each([
    [
      "a bad rate policy value",
      {
        ...minimal,
        behavior: { scaleUp: { policies: [{ type: "Pods", value: 0, periodSeconds: 15 }] } },
      },
      "spec.behavior.scaleUp.policies[0].value:",
    ],
    [
      "a period over 1800 s",
      {
        ...minimal,
        behavior: {
          scaleDown: { policies: [{ type: "Percent", value: 10, periodSeconds: 1801 }] },
        },
      },
      "spec.behavior.scaleDown.policies[0].periodSeconds:",
    ],
    [
      "an unknown signal",
      { ...minimal, metrics: [{ name: "cpu", averageValue: 1 }] },
      "spec.metrics[0].name:",
    ],
    [
      "a zero target",
      { ...minimal, metrics: [{ name: "requestRate", averageValue: 0 }] },
      "spec.metrics[0].averageValue: expected averageValue > 0",
    ],
    [
      "min above max",
      { ...minimal, minReplicas: 11 },
      "spec.minReplicas: expected minReplicas (11) <= maxReplicas (10)",
    ],
    [
      "a duplicate metric",
      {
        ...minimal,
        metrics: [
          { name: "requestRate", averageValue: 1 },
          { name: "requestRate", averageValue: 2 },
        ],
      },
      'spec.metrics[1].name: duplicate metric "requestRate"',
    ],
    ["a typo'd field", { ...minimal, maxReplica: 3 }, 'spec: Unrecognized key: "maxReplica"'],
    [
      "a zero drain time",
      { ...minimal, backlog: { drainSeconds: 0 } },
      "spec.backlog.drainSeconds: expected drainSeconds > 0",
    ],
    [
      "a bad schedule time",
      {
        ...minimal,
        prescale: { schedules: [{ name: "x", start: "25:00", end: "10:00", replicas: 2 }] },
      },
      "spec.prescale.schedules[0].start:",
    ],
    ["a bad mode", { ...minimal, mode: "off" }, "spec.mode:"],
    ["no metrics", { ...minimal, metrics: [] }, "spec.metrics:"],
  ])("rejects %s with a line naming the field", (_name, spec, expected) => {
    const lines = problems(spec);
    expect(lines.some((l) => l.startsWith(expected))).toBe(true);
  });

  it("gives one line per problem", () => {
    const lines = problems({
      ...minimal,
      maxReplicas: 0,
      metrics: [{ name: "nope", averageValue: -1 }],
    });
    expect(lines).toHaveLength(3);
  });

  it("accepts a full policy", () => {
    expect(
      problems({
        ...minimal,
        minReplicas: 2,
        metrics: [
          { name: "requestRate", averageValue: 40, weight: 2 },
          { name: "queueLength", averageValue: 5 },
        ],
        fusion: "weighted",
        panic: { windowSeconds: 6, threshold: 2 },
        backlog: { drainSeconds: 10 },
        coldStartSeconds: 8,
        lookahead: { windowSeconds: 10 },
        prescale: {
          schedules: [
            { name: "night-batch", start: "23:30", end: "01:00", days: ["Mon"], replicas: 5 },
          ],
        },
        mode: "dryRun",
      }),
    ).toEqual([]);
  });
});

describe("scalingPolicyJsonSchema", () => {
  const schema = scalingPolicyJsonSchema();
  const text = JSON.stringify(schema);

  it("is inline and structural (no $ref, no unions, no additionalProperties)", () => {
    for (const banned of [
      '"$ref"',
      '"anyOf"',
      '"oneOf"',
      '"allOf"',
      '"additionalProperties"',
      '"$schema"',
      '"const"',
    ]) {
      expect(text).not.toContain(banned);
    }
  });

  it("names the required fields and carries the defaults", () => {
    expect(schema.type).toBe("object");
    expect(schema.required).toEqual(
      expect.arrayContaining(["targetRef", "maxReplicas", "metrics"]),
    );
    const props = schema.properties as Record<string, Record<string, unknown>>;
    expect(props.minReplicas?.default).toBe(1);
    expect(props.mode?.enum).toEqual(["enforce", "dryRun"]);
  });
});
