/** One simulation: a trace, a policy name and the options → the metrics (pure, deterministic). */
import { ScalingPolicySpec, type ScalingPolicySpecInput } from "../../sidecar/protocol/policy.ts";
import { KPA_DEFAULTS, kpaScaler } from "./kpa.ts";
import { type ModelOptions, type RunMetrics, runModel } from "./model.ts";
import { oracleScaler, oracleSchedule } from "./oracle.ts";
import { hpaScaler, type ScalerOptions, swellPolicyInput, swellScaler } from "./scalers.ts";
import type { Trace } from "./traces.ts";

export const POLICY_NAMES = ["swell", "hpa", "kpa", "oracle"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export interface SimOptions {
  serviceRate: number;
  coldStartSeconds: number;
  sloMs: number;
  seed: number;
  queueCap: number;
  stepMs: number;
  warmupSeconds: number;
  hpaDelaySeconds: number;
  maxReplicas: number;
  /** replaces the built-in swell policy (e.g. from --policy-file) */
  swellPolicy?: ScalingPolicySpecInput;
}

export const DEFAULTS: SimOptions = {
  serviceRate: 5,
  coldStartSeconds: 10,
  sloMs: 500,
  seed: 1,
  queueCap: 10_000,
  stepMs: 100,
  warmupSeconds: 360,
  hpaDelaySeconds: 30,
  maxReplicas: 1000,
};

export type PolicyResult = RunMetrics & { scheduleReplicaSeconds?: number };

export function simulate(trace: Trace, policy: PolicyName, o: SimOptions): PolicyResult {
  const model: ModelOptions = {
    serviceRate: o.serviceRate,
    coldStartSeconds: o.coldStartSeconds,
    sloMs: o.sloMs,
    queueCap: o.queueCap,
    stepMs: o.stepMs,
    warmupSeconds: o.warmupSeconds,
  };
  const scalerOptions: ScalerOptions = {
    serviceRate: o.serviceRate,
    coldStartSeconds: o.coldStartSeconds,
    sloMs: o.sloMs,
    hpaDelaySeconds: o.hpaDelaySeconds,
    maxReplicas: o.maxReplicas,
  };
  // Everyone but the oracle starts from enough replicas for the first rate and settles in the warm-up.
  const initial = Math.max(1, Math.ceil((trace.rps[0] ?? 0) / o.serviceRate));
  switch (policy) {
    case "swell": {
      const spec = ScalingPolicySpec.parse(o.swellPolicy ?? swellPolicyInput(scalerOptions));
      return runModel(trace.rps, swellScaler(spec), initial, model);
    }
    case "hpa":
      return runModel(trace.rps, hpaScaler(scalerOptions), initial, model);
    case "kpa":
      return runModel(
        trace.rps,
        kpaScaler({ ...KPA_DEFAULTS, target: o.serviceRate, maxScale: o.maxReplicas }),
        initial,
        model,
      );
    case "oracle": {
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
