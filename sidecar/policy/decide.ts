/**
 * The scaling decision: (policy, aggregated history, replicas, state, now) → desired replicas, a
 * reason, and what each stage proposed. Pure: no clock, no I/O, no hidden state; the same input
 * gives the same output, so the controller, the simulator and the tests run this very function.
 *
 * Named stages, in the HPA's order (horizontal.go: computeReplicasForMetrics, then
 * normalizeDesiredReplicasWithBehaviors) with swell's rules slotted in; each hands its size on:
 *   bounds (a target outside [min, max] is brought inside at once, and skips to floors)
 *   → recommend (recommend.ts: per metric, lookahead, fusion, tolerance; no fresh data holds)
 *   → backlog (backlog.ts) → stabilize (behavior.ts: the windows over past recommendations;
 *     drain.ts: no scale-down while a queue drains)
 *   → panic (panic.ts) or, when not panicking, rateLimit (behavior.ts: rate policies and bounds)
 *   → floors (floors.ts: prescale floors and schedules).
 */
import type { ScalingPolicySpec } from "../protocol/policy.ts";
import { BACKLOG_RATE_WINDOW_MS, backlogStage } from "./backlog.ts";
import { longestPeriodMs, rateLimitStage, stabilizeStage } from "./behavior.ts";
import { drainHold } from "./drain.ts";
import { activeFloor, floorStage } from "./floors.ts";
import { panicStage } from "./panic.ts";
import { recommend } from "./recommend.ts";
import { MISSING_POD_GRACE_MS } from "./series.ts";
import type {
  DecideInput,
  Decision,
  LimitedBy,
  PolicyState,
  StageName,
  StageOutcome,
  StageResult,
} from "./types.ts";

/** How much history (ms before `now`) decide() reads: the controller must keep at least this. */
export function historyHorizonMs(policy: ScalingPolicySpec): number {
  const s = Math.max(
    policy.windowSeconds,
    policy.staleAfterSeconds,
    policy.panic?.windowSeconds ?? 0,
    policy.lookahead?.windowSeconds ?? 0,
    policy.backlog ? BACKLOG_RATE_WINDOW_MS / 1000 : 0,
  );
  // + the point before the window (weights the first one) + the grace for silent pods
  return Math.ceil(s * 1000) + MISSING_POD_GRACE_MS + 2_000;
}

function nextState(prev: PolicyState | undefined, input: DecideInput): PolicyState {
  const { policy, now, currentReplicas } = input;
  const up = policy.behavior.scaleUp;
  const down = policy.behavior.scaleDown;
  // A new or restarted decider treats the current size as a fresh recommendation, so it does not
  // scale down before a full scale-down window of evidence (HPA: maybeInitScaleDownStabilizationWindow).
  if (!prev) return { recommendations: [{ t: now, replicas: currentReplicas }], scaleEvents: [] };
  const keepRecs = Math.max(up.stabilizationWindowSeconds, down.stabilizationWindowSeconds) * 1000;
  const keepEvents = longestPeriodMs(up, down);
  const state: PolicyState = {
    recommendations: prev.recommendations.filter((r) => r.t > now - keepRecs && r.t <= now),
    scaleEvents: prev.scaleEvents.filter((e) => e.t > now - keepEvents && e.t <= now),
  };
  if (prev.panic) state.panic = { ...prev.panic };
  if (prev.serviceRate) state.serviceRate = { ...prev.serviceRate };
  return state;
}

/** The bounds stage: only when the target is outside [min, max] or scaled to 0. */
function boundsStage(current: number, min: number, max: number): StageOutcome | undefined {
  // The HPA leaves a target scaled to zero by someone else alone ("ScalingDisabled").
  if (current === 0)
    return {
      replicas: 0,
      limitedBy: "scaledToZero",
      notes: ["target has 0 replicas: autoscaling is off until it is scaled up"],
    };
  if (current > max)
    return {
      replicas: max,
      limitedBy: "maxReplicas",
      notes: [`current ${current} is above maxReplicas ${max}`],
    };
  if (current < min)
    return {
      replicas: min,
      limitedBy: "minReplicas",
      notes: [`current ${current} is below minReplicas ${min}`],
    };
  return undefined;
}

/** The stages run so far: their results, the reason's parts, and the last rule that limited. */
class Trail {
  readonly stages: StageResult[] = [];
  readonly notes: string[] = [];
  limitedBy: LimitedBy | undefined;

  add(stage: StageName, o: StageOutcome): number {
    const r: StageResult = {
      stage,
      replicas: o.replicas,
      note: o.notes.join("; ") || o.idle || "",
    };
    if (o.limitedBy) {
      r.limitedBy = o.limitedBy;
      this.limitedBy = o.limitedBy;
    }
    this.stages.push(r);
    this.notes.push(...o.notes);
    return o.replicas;
  }
}

export function decide(input: DecideInput): Decision {
  const { policy, now } = input;
  const current = input.currentReplicas;
  const ready = Math.max(0, input.readyReplicas);
  const dryRun = policy.mode === "dryRun";
  const state = nextState(input.state, input);
  const trail = new Trail();

  const finish = (proposed: number, recommendation?: number): Decision => {
    const floor = activeFloor(input.floors, policy.prescale.schedules, now);
    const d = trail.add("floors", floorStage(floor, proposed, policy.maxReplicas));
    if (!dryRun && d !== current) state.scaleEvents.push({ t: now, delta: d - current });
    trail.notes.push(d === current ? `keep ${d}` : `scale ${current} → ${d}`);
    if (dryRun) trail.notes.push("dryRun: not applied");
    const decision: Decision = {
      desiredReplicas: d,
      reason: trail.notes.join("; "),
      panic: state.panic !== undefined,
      dryRun,
      state,
      stages: trail.stages,
    };
    if (trail.limitedBy) decision.limitedBy = trail.limitedBy;
    if (recommendation !== undefined) decision.recommendation = recommendation;
    return decision;
  };

  const bounds = boundsStage(current, policy.minReplicas, policy.maxReplicas);
  if (bounds) {
    const replicas = trail.add("bounds", bounds);
    if (bounds.limitedBy !== "scaledToZero") return finish(replicas);
    return {
      desiredReplicas: 0,
      reason: trail.notes.join("; "),
      limitedBy: "scaledToZero",
      panic: false,
      dryRun,
      state,
      stages: trail.stages,
    };
  }

  const rec = recommend(input, ready);
  const recommendation = trail.add("recommend", rec);
  if (rec.hold) return finish(recommendation);
  const withBacklog = trail.add("backlog", backlogStage(input, ready, recommendation, state));
  const windows = stabilizeStage(policy, withBacklog, recommendation, current, state, now);
  const stabilized = trail.add(
    "stabilize",
    policy.drain ? drainHold(policy.drain, windows, input, ready) : windows,
  );
  if (policy.panic) {
    const panic = panicStage({
      rules: policy.panic,
      views: rec.views,
      replicas: stabilized,
      current,
      ready,
      maxReplicas: policy.maxReplicas,
      state,
      now,
    });
    const replicas = trail.add("panic", panic);
    if (panic.panicking) return finish(replicas, recommendation);
  }
  const limited = trail.add(
    "rateLimit",
    rateLimitStage(policy, stabilized, current, state.scaleEvents, now),
  );
  return finish(limited, recommendation);
}
