/**
 * HPA v2 `behavior`: stabilization windows and rate policies, with the semantics of the Kubernetes
 * HPA controller (pkg/controller/podautoscaler/horizontal.go: stabilizeRecommendationWithBehaviors,
 * convertDesiredReplicasWithBehaviorRate, calculateScaleUpLimitWithScalingRules and its scale-down
 * twin) as documented at
 * https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/#configurable-scaling-behavior
 */
import type { ScalingPolicySpec, ScalingRules } from "../protocol/policy.ts";
import type {
  LimitedBy,
  PolicyState,
  ScaleEvent,
  StageOutcome,
  TimedRecommendation,
} from "./types.ts";

export interface Stabilized {
  replicas: number;
  /** the window that held the recommendation back, if any */
  heldBy?: "scaleUp" | "scaleDown";
}

/**
 * "When the metrics indicate that the target should be scaled down the algorithm looks into
 * previously computed desired states, and uses the highest value from the specified interval"
 * (and the lowest for scale-up). The result starts from the current size and moves towards the
 * new recommendation only as far as every recommendation in the window agrees.
 */
export function stabilize(
  recommendations: readonly TimedRecommendation[],
  desired: number,
  current: number,
  up: ScalingRules,
  down: ScalingRules,
  now: number,
): Stabilized {
  const upCutoff = now - up.stabilizationWindowSeconds * 1000;
  const downCutoff = now - down.stabilizationWindowSeconds * 1000;
  let upRec = desired;
  let downRec = desired;
  for (const r of recommendations) {
    if (r.t > upCutoff) upRec = Math.min(upRec, r.replicas);
    if (r.t > downCutoff) downRec = Math.max(downRec, r.replicas);
  }
  let replicas = current;
  if (replicas < upRec) replicas = upRec;
  if (replicas > downRec) replicas = downRec;
  if (replicas === desired) return { replicas };
  return { replicas, heldBy: desired > current ? "scaleUp" : "scaleDown" };
}

/** Net replicas added (or removed) by events within the last `periodSeconds`. */
function changeInPeriod(
  events: readonly ScaleEvent[],
  periodSeconds: number,
  now: number,
  sign: 1 | -1,
) {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) if (e.t > cutoff && Math.sign(e.delta) === sign) sum += Math.abs(e.delta);
  return sum;
}

/**
 * The most replicas the scale-up policies allow now. Each policy measures from the size at the
 * start of its period ("periodStartReplicas"); Percent rounds up so a small target can grow.
 */
export function scaleUpLimit(
  current: number,
  events: readonly ScaleEvent[],
  rules: ScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === "Disabled") return current;
  const pick = rules.selectPolicy === "Min" ? Math.min : Math.max;
  let result = rules.selectPolicy === "Min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (const p of rules.policies) {
    const start =
      current -
      changeInPeriod(events, p.periodSeconds, now, 1) +
      changeInPeriod(events, p.periodSeconds, now, -1);
    const proposed = p.type === "Pods" ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now; Percent rounds the remainder down. */
export function scaleDownLimit(
  current: number,
  events: readonly ScaleEvent[],
  rules: ScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === "Disabled") return current;
  // For scale-down the policy with the biggest change gives the smallest size.
  const pick = rules.selectPolicy === "Min" ? Math.max : Math.min;
  let result = rules.selectPolicy === "Min" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  for (const p of rules.policies) {
    const start =
      current -
      changeInPeriod(events, p.periodSeconds, now, 1) +
      changeInPeriod(events, p.periodSeconds, now, -1);
    const proposed = p.type === "Pods" ? start - p.value : Math.floor(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

export interface RateLimited {
  replicas: number;
  limitedBy?: LimitedBy;
  /** the bound the rule allowed */
  bound?: number;
}

/** Apply the rate policies and the min/max bounds to a stabilized recommendation. */
export function limitRate(
  desired: number,
  current: number,
  events: readonly ScaleEvent[],
  up: ScalingRules,
  down: ScalingRules,
  minReplicas: number,
  maxReplicas: number,
  now: number,
): RateLimited {
  if (desired > current) {
    // "We shouldn't scale up further until the scaleUpEvents will be cleaned up"
    const limit = Math.max(scaleUpLimit(current, events, up, now), current);
    const allowed = Math.min(maxReplicas, limit);
    if (desired > allowed) {
      const limitedBy: LimitedBy =
        maxReplicas <= limit
          ? "maxReplicas"
          : up.selectPolicy === "Disabled"
            ? "scaleUp.disabled"
            : "scaleUp.policies";
      return { replicas: allowed, limitedBy, bound: allowed };
    }
  } else if (desired < current) {
    const limit = Math.min(scaleDownLimit(current, events, down, now), current);
    const allowed = Math.max(minReplicas, limit);
    if (desired < allowed) {
      const limitedBy: LimitedBy =
        minReplicas >= limit
          ? "minReplicas"
          : down.selectPolicy === "Disabled"
            ? "scaleDown.disabled"
            : "scaleDown.policies";
      return { replicas: allowed, limitedBy, bound: allowed };
    }
  }
  return { replicas: desired };
}

/** The longest period any rate policy looks back over (events older than that are dropped). */
export function longestPeriodMs(up: ScalingRules, down: ScalingRules): number {
  let s = 0;
  for (const p of [...up.policies, ...down.policies]) s = Math.max(s, p.periodSeconds);
  return s * 1000;
}

/**
 * The stabilize stage: `proposed` (the recommendation, plus the backlog's extra) held back by the
 * windows; then `recommendation` alone is recorded for later windows.
 */
export function stabilizeStage(
  policy: ScalingPolicySpec,
  proposed: number,
  recommendation: number,
  current: number,
  state: PolicyState,
  now: number,
): StageOutcome {
  const { scaleUp: up, scaleDown: down } = policy.behavior;
  const st = stabilize(state.recommendations, proposed, current, up, down, now);
  state.recommendations.push({ t: now, replicas: recommendation });
  if (st.heldBy) {
    const [window, which] =
      st.heldBy === "scaleDown" ? [down, "highest"] : ([up, "lowest"] as const);
    return {
      replicas: st.replicas,
      limitedBy: "stabilization",
      notes: [
        `${st.heldBy} stabilization (${window.stabilizationWindowSeconds}s) holds the ${which} recent recommendation, ${st.replicas}`,
      ],
    };
  }
  return { replicas: st.replicas, notes: [], idle: "no recent recommendation holds it back" };
}

/** The rateLimit stage: the rate policies, then minReplicas/maxReplicas. */
export function rateLimitStage(
  policy: ScalingPolicySpec,
  proposed: number,
  current: number,
  events: readonly ScaleEvent[],
  now: number,
): StageOutcome {
  const { scaleUp: up, scaleDown: down } = policy.behavior;
  const rl = limitRate(
    proposed,
    current,
    events,
    up,
    down,
    policy.minReplicas,
    policy.maxReplicas,
    now,
  );
  if (!rl.limitedBy)
    return { replicas: rl.replicas, notes: [], idle: "within the rate policies and bounds" };
  const what =
    rl.limitedBy === "maxReplicas" || rl.limitedBy === "minReplicas"
      ? `${rl.limitedBy} ${rl.bound}`
      : rl.limitedBy.endsWith("disabled")
        ? `${rl.limitedBy.split(".")[0]} is Disabled`
        : `${rl.limitedBy} (${describePolicies(rl.limitedBy.startsWith("scaleUp") ? up : down)}) allow ${rl.bound} now`;
  return { replicas: rl.replicas, limitedBy: rl.limitedBy, notes: [`limited by ${what}`] };
}

function describePolicies(rules: ScalingRules): string {
  const ps = rules.policies.map(
    (p) => `${p.value}${p.type === "Percent" ? "%" : " pods"}/${p.periodSeconds}s`,
  );
  return `${ps.join(", ")}; ${rules.selectPolicy}`;
}
