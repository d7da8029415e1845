/**
 * One simulation: a trace, a policy name and the options → the metrics (pure, deterministic);
 * and the frontier: every baseline over its sweep of settings, against swell's own point.
 */
import { ScalingPolicySpec, type ScalingPolicySpecInput } from "../../sidecar/protocol/policy.ts";
import { KPA_DEFAULTS, kpaScaler } from "./kpa.ts";
import { type ModelOptions, type RunMetrics, runModel } from "./model.ts";
import { oracleScaler, oracleSchedule } from "./oracle.ts";
import { hpaScaler, type ScalerOptions, swellPolicyInput, swellScaler } from "./scalers.ts";
import { prng, type Trace } from "./traces.ts";

export const POLICY_NAMES = ["swell", "hpa", "kpa", "oracle"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export interface SimOptions {
  serviceRate: number;
  /** a trace's own cold start (random traces) takes precedence */
  coldStartSeconds: number;
  sloMs: number;
  seed: number;
  /** the KPA's shared (activator) buffer */
  queueCap: number;
  /** each pod's own queue, behind the Service (swell, hpa) */
  podQueueCap: number;
  stepMs: number;
  warmupSeconds: number;
  hpaDelaySeconds: number;
  maxReplicas: number;
  /** the hpa row's AverageValue target, as a fraction of a replica's capacity */
  hpaTarget: number;
  /** the kpa row's target utilization */
  kpaUtilization: number;
  kpaMetric: "concurrency" | "rps";
  /** requests a pod serves at a time (the KPA's concurrency target before utilization) */
  containerConcurrency: number;
  /** replaces the built-in swell policy (e.g. from --policy-file) */
  swellPolicy?: ScalingPolicySpecInput;
}

export const DEFAULTS: SimOptions = {
  serviceRate: 5,
  coldStartSeconds: 10,
  sloMs: 500,
  seed: 1,
  queueCap: 10_000,
  podQueueCap: 200,
  stepMs: 100,
  warmupSeconds: 360,
  hpaDelaySeconds: 30,
  maxReplicas: 1000,
  hpaTarget: 0.7,
  kpaUtilization: 0.7,
  kpaMetric: "concurrency",
  containerConcurrency: 1,
};

/** The sweeps the frontier runs: users pick 60-80 % and up to 95 %. */
export const HPA_TARGETS = [0.6, 0.7, 0.8, 0.9, 0.95] as const;
export const KPA_UTILIZATIONS = [0.6, 0.7, 0.8, 0.9, 0.95] as const;

/** Where in its 15 s period the HPA syncs: its start time, drawn from the seed. */
export function hpaPhaseSeconds(seed: number): number {
  return Math.floor(prng(seed ^ 0x5bd1e995)() * 15);
}

export type PolicyResult = RunMetrics & { scheduleReplicaSeconds?: number };

interface Setting {
  hpaTarget?: number;
  kpaUtilization?: number;
  kpaMetric?: "concurrency" | "rps";
}

function modelOptions(trace: Trace, o: SimOptions, balancing: "shared" | "perPod"): ModelOptions {
  return {
    serviceRate: o.serviceRate,
    coldStartSeconds: trace.coldStartSeconds ?? o.coldStartSeconds,
    sloMs: o.sloMs,
    queueCap: o.queueCap,
    podQueueCap: o.podQueueCap,
    stepMs: o.stepMs,
    warmupSeconds: o.warmupSeconds,
    balancing,
  };
}

export function simulate(
  trace: Trace,
  policy: PolicyName,
  o: SimOptions,
  setting: Setting = {},
): PolicyResult {
  const cold = trace.coldStartSeconds ?? o.coldStartSeconds;
  const scalerOptions: ScalerOptions = {
    serviceRate: o.serviceRate,
    coldStartSeconds: cold,
    sloMs: o.sloMs,
    hpaDelaySeconds: o.hpaDelaySeconds,
    maxReplicas: o.maxReplicas,
  };
  // Everyone but the oracle starts from enough replicas for the first rate and settles in the warm-up.
  const initial = Math.max(1, Math.ceil((trace.rps[0] ?? 0) / o.serviceRate));
  switch (policy) {
    case "swell": {
      const spec = ScalingPolicySpec.parse(o.swellPolicy ?? swellPolicyInput(scalerOptions));
      return runModel(trace.rps, swellScaler(spec), initial, modelOptions(trace, o, "perPod"));
    }
    case "hpa":
      return runModel(
        trace.rps,
        hpaScaler(scalerOptions, setting.hpaTarget ?? o.hpaTarget, hpaPhaseSeconds(o.seed)),
        initial,
        modelOptions(trace, o, "perPod"),
      );
    case "kpa": {
      const metric = setting.kpaMetric ?? o.kpaMetric;
      const scaler = kpaScaler({
        ...KPA_DEFAULTS,
        targetUtilization: setting.kpaUtilization ?? o.kpaUtilization,
        metric,
        target: metric === "rps" ? o.serviceRate : o.containerConcurrency,
        serviceTimeSeconds: o.containerConcurrency / o.serviceRate,
        maxScale: o.maxReplicas,
      });
      return runModel(trace.rps, scaler, initial, modelOptions(trace, o, "shared"));
    }
    case "oracle": {
      // The shared queue serves at least as well as per-pod queues, so its bound holds for both.
      const model = modelOptions(trace, o, "shared");
      const schedule = oracleSchedule(trace.rps, model);
      const m = runModel(trace.rps, oracleScaler(schedule, o.stepMs), schedule.spec[0] ?? 1, model);
      // replicaSeconds is the bound; what replaying the schedule pays (cold-start lead included) is kept too
      return {
        ...m,
        replicaSeconds: schedule.lowerBoundReplicaSeconds,
        scheduleReplicaSeconds: m.replicaSeconds,
      };
    }
  }
}

export interface FrontierPoint {
  setting: string;
  replicaSeconds: number;
  sloViolationSeconds: number;
}

export interface Frontier {
  hpa: FrontierPoint[];
  kpa: FrontierPoint[];
  "kpa-rps": FrontierPoint[];
  swell: FrontierPoint;
}

const point = (setting: string, m: RunMetrics): FrontierPoint => ({
  setting,
  replicaSeconds: m.replicaSeconds,
  sloViolationSeconds: m.sloViolationSeconds,
});

/**
 * Each baseline over its sweep, and swell's point. `rows` are runs already made at the options'
 * own settings (the table's hpa and kpa), reused rather than run again.
 */
export function frontier(
  trace: Trace,
  o: SimOptions,
  rows: Partial<Record<PolicyName, PolicyResult>> = {},
): Frontier {
  const hpa = HPA_TARGETS.map((t) =>
    point(
      `target ${t}`,
      t === o.hpaTarget && rows.hpa ? rows.hpa : simulate(trace, "hpa", o, { hpaTarget: t }),
    ),
  );
  const kpa = KPA_UTILIZATIONS.map((u) =>
    point(
      `concurrency, utilization ${u}`,
      u === o.kpaUtilization && o.kpaMetric === "concurrency" && rows.kpa
        ? rows.kpa
        : simulate(trace, "kpa", o, { kpaUtilization: u, kpaMetric: "concurrency" }),
    ),
  );
  const rpsAt = KPA_DEFAULTS.targetUtilization;
  const kpaRps = [
    point(
      `rps, utilization ${rpsAt}`,
      o.kpaMetric === "rps" && o.kpaUtilization === rpsAt && rows.kpa
        ? rows.kpa
        : simulate(trace, "kpa", o, { kpaUtilization: rpsAt, kpaMetric: "rps" }),
    ),
  ];
  return {
    hpa,
    kpa,
    "kpa-rps": kpaRps,
    swell: point("default", rows.swell ?? simulate(trace, "swell", o)),
  };
}

/** Baseline settings that beat swell on both counts: cheaper and fewer violation seconds. */
export function dominators(f: Frontier): FrontierPoint[] {
  const s = f.swell;
  return [...f.hpa, ...f.kpa, ...f["kpa-rps"]].filter(
    (b) => b.replicaSeconds < s.replicaSeconds && b.sloViolationSeconds < s.sloViolationSeconds,
  );
}

/**
 * A baseline's violation seconds at swell's cost: linear between the two settings of its sweep
 * whose replica-seconds bracket swell's; outside the sweep, its nearest end (the cheapest setting
 * when swell is cheaper still, so the baseline is then given more replicas than swell has).
 */
export function violationAtCost(points: readonly FrontierPoint[], replicaSeconds: number): number {
  const p = [...points].sort((a, b) => a.replicaSeconds - b.replicaSeconds);
  const first = p[0];
  const last = p.at(-1);
  if (!first || !last) return Number.NaN;
  if (replicaSeconds <= first.replicaSeconds) return first.sloViolationSeconds;
  if (replicaSeconds >= last.replicaSeconds) return last.sloViolationSeconds;
  const i = p.findIndex((b) => b.replicaSeconds >= replicaSeconds);
  const a = p[i - 1] as FrontierPoint;
  const b = p[i] as FrontierPoint;
  const w = (replicaSeconds - a.replicaSeconds) / (b.replicaSeconds - a.replicaSeconds);
  return a.sloViolationSeconds + w * (b.sloViolationSeconds - a.sloViolationSeconds);
}
