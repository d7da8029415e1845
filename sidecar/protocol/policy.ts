/**
 * The ScalingPolicy: one schema for the CRD, the local YAML file and the API.
 *
 * Field names and defaults follow the Kubernetes HPA v2 (autoscaling/v2) where the concept is the
 * same, so HPA users feel at home: `minReplicas`, `maxReplicas`, `metrics[].averageValue`,
 * `behavior.scaleUp|scaleDown` with `stabilizationWindowSeconds`, `tolerance`, `policies` and
 * `selectPolicy`. Defaults are the HPA's documented defaults:
 * https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/#default-behavior
 * swell's own fields (`panic`, `backlog`, `lookahead`, `prescale`, `mode`, the windows) are
 * described in docs/policy.md. Without `panic`, `backlog` and `lookahead` the engine behaves as the
 * HPA would on the same data.
 */
import { z } from "zod";
import { SIGNAL_NAMES, type SignalName } from "./signals.ts";

export const API_VERSION = "scaling.swell.dev/v1alpha1";
export const KIND = "ScalingPolicy";

const signalName = z.enum(SIGNAL_NAMES as [SignalName, ...SignalName[]]);

const positive = (what: string) => z.number().gt(0, `expected ${what} > 0`);

// HPA v2 HPAScalingPolicy: value > 0, 0 < periodSeconds <= 1800.
const ScalingRulePolicy = z.strictObject({
  type: z.enum(["Pods", "Percent"]),
  value: z.int().min(1).max(100_000),
  periodSeconds: z.int().min(1).max(1800),
});
export type ScalingRulePolicy = z.infer<typeof ScalingRulePolicy>;

// One direction of `behavior`, defaulted field by field as the HPA does (a policy that sets only
// `stabilizationWindowSeconds` keeps the default rate policies).
const scalingRules = (defaults: {
  stabilizationWindowSeconds: number;
  policies: ScalingRulePolicy[];
}) =>
  z.strictObject({
    /** Recommendations within this window are considered: the lowest for scale-up, the highest for scale-down. */
    stabilizationWindowSeconds: z
      .int()
      .min(0)
      .max(3600)
      .default(defaults.stabilizationWindowSeconds),
    /** No change while |desired/current - 1| is within this fraction (HPA default 0.1). */
    tolerance: z.number().min(0).max(10).default(0.1),
    policies: z.array(ScalingRulePolicy).min(1).max(10).default(defaults.policies),
    selectPolicy: z.enum(["Max", "Min", "Disabled"]).default("Max"),
  });

const ScaleUpRules = scalingRules({
  stabilizationWindowSeconds: 0,
  policies: [
    { type: "Percent", value: 100, periodSeconds: 15 },
    { type: "Pods", value: 4, periodSeconds: 15 },
  ],
});
const ScaleDownRules = scalingRules({
  stabilizationWindowSeconds: 300,
  policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
});
export type ScalingRules = z.infer<typeof ScaleUpRules>;

const Metric = z.strictObject({
  /** The signal, as the agents report it (sidecar/protocol/signals.ts). */
  name: signalName,
  /** Per-pod target: desired replicas = ceil(sum over pods / averageValue). */
  averageValue: positive("averageValue"),
  /** Weight in `fusion: weighted`; ignored by `max`. */
  weight: positive("weight").default(1),
});
export type PolicyMetric = z.infer<typeof Metric>;

const Panic = z.strictObject({
  /** Short window the panic decision looks at (Knative: 6 s, 10% of the stable window). */
  windowSeconds: positive("windowSeconds").default(6),
  /** Panic when short-window desired replicas / ready replicas >= threshold (Knative: 2.0). */
  threshold: z.number().min(1).max(100).default(2),
  /** Panic ends, and scale-down may resume, once demand stayed under the threshold this long (Knative: 60 s). */
  stableWindowSeconds: positive("stableWindowSeconds").default(60),
});

// Reads the queueLength, requestRate and completionRate signals (whether or not they are metrics[]).
const Backlog = z.strictObject({
  /** Size so the present queue drains within this many seconds while arrivals keep being served. */
  drainSeconds: positive("drainSeconds"),
});

// Reads the queueLength and completionRate signals (whether or not they are metrics[]).
const Drain = z.strictObject({
  /** No scale-down while the queue holds more than this many seconds of work (queue ÷ completions). */
  queueSeconds: positive("queueSeconds").default(0.2),
});

// Sizes for the demand expected `coldStartSeconds` ahead.
const Lookahead = z.strictObject({
  /** Window of the trend: a least-squares slope over each half, both significantly rising. */
  windowSeconds: positive("windowSeconds").default(20),
  /** The forecast never exceeds this multiple of the demand seen now. */
  maxFactor: z.number().min(1).max(10).default(2),
});

// One pattern (not a union) so the CRD schema stays structural.
const hhmm = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'expected a UTC time "HH:MM"');
const Schedule = z.strictObject({
  name: z.string().min(1).max(63),
  /** Start of the daily range, UTC "HH:MM" (inclusive). */
  start: hhmm,
  /** End of the daily range, UTC "HH:MM" (exclusive); before `start` means it runs past midnight. */
  end: hhmm,
  /** Days (UTC) the range starts on; all days when omitted. */
  days: z.array(z.enum(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])).optional(),
  /** The floor while the range is active. */
  replicas: z.int().min(0).max(100_000),
});
export type PrescaleSchedule = z.infer<typeof Schedule>;

const specShape = z.strictObject({
  targetRef: z.strictObject({
    apiVersion: z.string().min(1),
    kind: z.string().min(1),
    name: z.string().min(1).max(253),
  }),
  minReplicas: z.int().min(1).max(100_000).default(1),
  maxReplicas: z.int().min(1).max(100_000),
  metrics: z.array(Metric).min(1).max(16),
  /** How several metrics combine: the largest recommendation (HPA) or a weighted mean. */
  fusion: z.enum(["max", "weighted"]).default("max"),
  /** Averaging window of the signals for the regular recommendation. */
  windowSeconds: positive("windowSeconds").default(10),
  /** Time from a scale-up decision to a ready replica: the lookahead's horizon, and when the backlog rule expects new capacity. */
  coldStartSeconds: positive("coldStartSeconds").default(10),
  /** With no point younger than this, hold the current size. */
  staleAfterSeconds: positive("staleAfterSeconds").default(5),
  behavior: z
    .strictObject({
      scaleUp: ScaleUpRules.default(ScaleUpRules.parse({})),
      scaleDown: ScaleDownRules.default(ScaleDownRules.parse({})),
    })
    .default({ scaleUp: ScaleUpRules.parse({}), scaleDown: ScaleDownRules.parse({}) }),
  panic: Panic.optional(),
  backlog: Backlog.optional(),
  drain: Drain.optional(),
  lookahead: Lookahead.optional(),
  prescale: z.strictObject({ schedules: z.array(Schedule).max(50).default([]) }).default({
    schedules: [],
  }),
  /** dryRun: decide and explain, never scale. */
  mode: z.enum(["enforce", "dryRun"]).default("enforce"),
});

export const ScalingPolicySpec = specShape.superRefine((spec, ctx) => {
  if (spec.minReplicas > spec.maxReplicas) {
    ctx.addIssue({
      code: "custom",
      path: ["minReplicas"],
      message: `expected minReplicas (${spec.minReplicas}) <= maxReplicas (${spec.maxReplicas})`,
    });
  }
  const seen = new Set<string>();
  spec.metrics.forEach((m, i) => {
    if (seen.has(m.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["metrics", i, "name"],
        message: `duplicate metric "${m.name}"`,
      });
    }
    seen.add(m.name);
  });
  spec.prescale.schedules.forEach((s, i) => {
    if (s.start === s.end) {
      ctx.addIssue({
        code: "custom",
        path: ["prescale", "schedules", i, "end"],
        message: "expected end different from start",
      });
    }
  });
});
export type ScalingPolicySpec = z.infer<typeof ScalingPolicySpec>;
/** What a user may write: every defaulted field optional. */
export type ScalingPolicySpecInput = z.input<typeof ScalingPolicySpec>;

export const ScalingPolicy = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: z.object({
    name: z.string().min(1).max(253),
    namespace: z.string().min(1).max(63).optional(),
  }),
  spec: ScalingPolicySpec,
});
export type ScalingPolicy = z.infer<typeof ScalingPolicy>;

/**
 * JSON Schema (OpenAPI v3.0 flavour) of what a user may write in `spec`, for the CRD's
 * openAPIV3Schema: inlined (no $ref), defaults included, and without `additionalProperties`
 * (a structural schema may not combine it with `properties`; the API server prunes unknown fields).
 */
export function scalingPolicyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(specShape, {
    target: "openapi-3.0",
    io: "input",
    reused: "inline",
    cycles: "throw",
    unrepresentable: "throw",
  }) as Record<string, unknown>;
  return stripForCrd(schema) as Record<string, unknown>;
}

const DROP_KEYS = new Set(["$schema", "additionalProperties", "$id", "id"]);
function stripForCrd(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripForCrd);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (DROP_KEYS.has(k)) continue;
    out[k] = k === "properties" ? mapValues(v as Record<string, unknown>) : stripForCrd(v);
  }
  return out;
}
function mapValues(props: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, stripForCrd(v)]));
}

/**
 * One line per problem, each naming the field: `spec.behavior.scaleUp.policies[0].value: ...`.
 * `prefix` is put before paths (use "spec" when the error came from parsing a spec alone).
 */
export function formatPolicyIssues(error: z.ZodError, prefix = ""): string[] {
  return error.issues.map((issue) => {
    let path = prefix;
    for (const key of issue.path) {
      if (typeof key === "number") path += `[${key}]`;
      else path += path === "" ? String(key) : `.${String(key)}`;
    }
    return `${path === "" ? "(policy)" : path}: ${issue.message}`;
  });
}
