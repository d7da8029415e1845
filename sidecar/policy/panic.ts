/**
 * The panic stage (Knative KPA: pkg/autoscaler/scaling/autoscaler.go Scale();
 * https://knative.dev/docs/serving/autoscaling/kpa-specific/): on a surge, size on the short
 * window at once, never down, never below the panic's high-water mark.
 */
import type { ScalingPolicySpec } from "../protocol/policy.ts";
import { ceilReplicas } from "./format.ts";
import type { MetricView } from "./recommend.ts";
import { windowAverage } from "./series.ts";
import type { PolicyState, StageOutcome } from "./types.ts";

export interface PanicInput {
  rules: NonNullable<ScalingPolicySpec["panic"]>;
  views: readonly MetricView[];
  /** the stabilized size */
  replicas: number;
  current: number;
  ready: number;
  maxReplicas: number;
  /** updated in place: panic starts, holds or ends here */
  state: PolicyState;
  now: number;
}

/** Panic's proposal; with `panicking` false the size passes on to the rate policies. */
export function panicStage(p: PanicInput): StageOutcome & { panicking: boolean } {
  const { rules, state, now, ready, maxReplicas: max } = p;
  const notes: string[] = [];
  const pw = rules.windowSeconds * 1000;
  let shortRaw = 0;
  for (const v of p.views) {
    const avg = windowAverage(v.samples, now - pw, now);
    // Panic sizes on demand; the backlog rule's extra is transient and must not be held by panic.
    if (avg !== undefined) shortRaw = Math.max(shortRaw, avg / v.target);
  }
  const needed = ceilReplicas(shortRaw);
  const over = needed / Math.max(1, ready) >= rules.threshold;
  if (over) {
    if (!state.panic)
      notes.push(
        `panic: ${needed} needed over ${rules.windowSeconds}s vs ${ready} ready (≥ ${rules.threshold}×)`,
      );
    state.panic = {
      since: state.panic?.since ?? now,
      lastOver: now,
      maxReplicas: state.panic?.maxReplicas ?? 0,
    };
  } else if (state.panic && now - state.panic.lastOver >= rules.stableWindowSeconds * 1000) {
    notes.push(`panic over: under ${rules.threshold}× for ${rules.stableWindowSeconds}s`);
    delete state.panic;
  }
  const panic = state.panic;
  if (!panic) {
    return {
      replicas: p.replicas,
      notes,
      idle: `not panicking: ${needed} needed over ${rules.windowSeconds}s vs ${ready} ready (< ${rules.threshold}×)`,
      panicking: false,
    };
  }
  // At once, never down, never below this panic's high-water mark.
  let replicas = Math.max(p.replicas, needed, p.current, panic.maxReplicas);
  let limitedBy: StageOutcome["limitedBy"];
  if (replicas > max) {
    replicas = max;
    limitedBy = "maxReplicas";
    notes.push(`panic: capped at maxReplicas ${max}`);
  } else if (replicas !== p.replicas) {
    limitedBy = "panic";
    notes.push(
      replicas > p.replicas
        ? `panic: ${replicas} at once (short-window ${needed}, no rate limit, no scale-down)`
        : `panic: no scale-down`,
    );
  }
  panic.maxReplicas = Math.max(panic.maxReplicas, replicas);
  return {
    replicas,
    notes,
    idle: `panicking since ${Math.round((now - panic.since) / 1000)}s: ${replicas} holds`,
    panicking: true,
    ...(limitedBy ? { limitedBy } : {}),
  };
}
