/**
 * The scaling decision: (policy, aggregated history, replicas, state, now) → desired replicas and
 * a reason. Pure: no clock, no I/O, no hidden state; the same input gives the same output, so the
 * controller, the simulator and the tests run this very function.
 *
 * Order, as in the HPA (horizontal.go: computeReplicasForMetrics, then
 * normalizeDesiredReplicasWithBehaviors), with swell's rules slotted in:
 *   1. bounds: a target outside [min, max] is brought inside at once;
 *   2. no fresh data: hold;
 *   3. per metric: ceil(total / averageValue) over `windowSeconds`, raised by the lookahead
 *      forecast; fused (max or weighted); tolerance on the ratio to current; then the backlog rule;
 *   4. stabilization windows over past recommendations (the backlog rule's transient extra is
 *      not recorded, so it goes as soon as the queue has drained); 5. rate policies and bounds;
 *   6. panic (Knative KPA): short-window sizing at once, no scale-down while panicking;
 *   7. prescale floors and schedules.
 */
import type { ScalingPolicySpec } from "../protocol/policy.ts";
import type { SignalName } from "../protocol/signals.ts";
import { BACKLOG_RATE_WINDOW_MS, backlogReplicas } from "./backlog.ts";
import { limitRate, longestPeriodMs, stabilize } from "./behavior.ts";
import { activeFloor } from "./floors.ts";
import { ceilReplicas, fmt } from "./format.ts";
import { forecast, lookaheadSeconds } from "./lookahead.ts";
import { MISSING_POD_GRACE_MS, type Sample, totals, windowAverage } from "./series.ts";
import type { AggregatedPoint, DecideInput, Decision, LimitedBy, PolicyState } from "./types.ts";

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

interface MetricView {
  name: SignalName;
  target: number;
  weight: number;
  samples: Sample[];
  /** fractional replicas the metric asks for */
  raw: number;
  text: string;
}

function metricViews(
  input: DecideInput,
  ready: number,
): { views: MetricView[]; missing: SignalName[] } {
  const { policy, history, now } = input;
  const from = now - policy.windowSeconds * 1000;
  const views: MetricView[] = [];
  const missing: SignalName[] = [];
  for (const m of policy.metrics) {
    // Ready pods that did not report are bracketed as the HPA does (replica_calculator.go): at 0
    // they cannot cause a scale-up, at the target they cannot allow a scale-down. So a replica
    // just started is not counted at the busy pods' average, and a silent one is not zero load.
    const samples = totals(history, m.name, ready, 0);
    const avg = windowAverage(samples, from, now);
    if (avg === undefined) {
      missing.push(m.name);
      continue;
    }
    const filled = windowAverage(totals(history, m.name, ready, m.averageValue), from, now) ?? avg;
    const low = avg / m.averageValue;
    const high = filled / m.averageValue;
    let raw = Math.min(Math.max(input.currentReplicas, low), high);
    let text = `${m.name} ${fmt(avg)} (avg ${policy.windowSeconds}s) / ${fmt(m.averageValue)} per pod = ${fmt(low)}`;
    if (high > low) {
      text += ` (${fmt(high)} with the pods not reporting at target; keep within: ${fmt(raw)})`;
    }
    const view: MetricView = {
      name: m.name,
      target: m.averageValue,
      weight: m.weight,
      samples,
      raw,
      text,
    };
    // Lookahead forecasts demand (rates); a queue's growth is the backlog rule's business.
    const la = policy.lookahead;
    if (la && m.name !== "queueLength") {
      const f = forecast(samples, now, la.windowSeconds * 1000, lookaheadSeconds(policy));
      if (f) {
        const latest = samples.at(-1)?.v ?? avg;
        const value = Math.min(f.value, Math.max(avg, latest) * la.maxFactor);
        if (value / m.averageValue > raw) {
          raw = value / m.averageValue;
          text += `; rising ${fmt(f.slopePerSecond)}/s, forecast ${fmt(value)} in ${lookaheadSeconds(policy)}s = ${fmt(raw)}`;
        }
      }
    }
    view.raw = raw;
    view.text = text;
    views.push(view);
  }
  return { views, missing };
}

/** Tolerance per direction on the ratio desired/current (HPA: |1 - ratio| <= tolerance keeps current). */
function withTolerance(raw: number, current: number, policy: ScalingPolicySpec) {
  const ratio = current > 0 ? raw / current : Number.POSITIVE_INFINITY;
  const within =
    ratio >= 1
      ? ratio - 1 <= policy.behavior.scaleUp.tolerance
      : 1 - ratio <= policy.behavior.scaleDown.tolerance;
  return { replicas: within ? current : ceilReplicas(raw), within, ratio };
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

export function decide(input: DecideInput): Decision {
  const { policy, now } = input;
  const current = input.currentReplicas;
  const ready = Math.max(0, input.readyReplicas);
  const min = policy.minReplicas;
  const max = policy.maxReplicas;
  const up = policy.behavior.scaleUp;
  const down = policy.behavior.scaleDown;
  const dryRun = policy.mode === "dryRun";
  const state = nextState(input.state, input);
  const notes: string[] = [];
  const floor = activeFloor(input.floors, policy.prescale.schedules, now);

  const finish = (
    desired: number,
    limitedBy: LimitedBy | undefined,
    recommendation?: number,
  ): Decision => {
    let d = desired;
    let by = limitedBy;
    if (floor && floor.replicas > d && d < max) {
      d = Math.min(floor.replicas, max);
      by = "floor";
      notes.push(
        `${floor.reason} raises it to ${d}${d < floor.replicas ? ` (maxReplicas ${max})` : ""}`,
      );
    }
    if (!dryRun && d !== current) state.scaleEvents.push({ t: now, delta: d - current });
    notes.push(d === current ? `keep ${d}` : `scale ${current} → ${d}`);
    if (dryRun) notes.push("dryRun: not applied");
    const decision: Decision = {
      desiredReplicas: d,
      reason: notes.join("; "),
      panic: state.panic !== undefined,
      dryRun,
      state,
    };
    if (by) decision.limitedBy = by;
    if (recommendation !== undefined) decision.recommendation = recommendation;
    return decision;
  };

  // The HPA leaves a target scaled to zero by someone else alone ("ScalingDisabled").
  if (current === 0) {
    notes.push("target has 0 replicas: autoscaling is off until it is scaled up");
    return {
      desiredReplicas: 0,
      reason: notes.join("; "),
      limitedBy: "scaledToZero",
      panic: false,
      dryRun,
      state,
    };
  }
  if (current > max) {
    notes.push(`current ${current} is above maxReplicas ${max}`);
    return finish(max, "maxReplicas");
  }
  if (current < min) {
    notes.push(`current ${current} is below minReplicas ${min}`);
    return finish(min, "minReplicas");
  }

  // No fresh report: hold. Silence is not zero load.
  let newest: AggregatedPoint | undefined;
  for (const p of input.history)
    if (p.pods > 0 && p.t <= now && (!newest || p.t > newest.t)) newest = p;
  if (!newest || now - newest.t > policy.staleAfterSeconds * 1000) {
    notes.push(
      newest
        ? `no fresh reports (newest ${fmt((now - newest.t) / 1000)}s old > staleAfterSeconds ${policy.staleAfterSeconds}): hold`
        : "no reports yet: hold",
    );
    return finish(current, "noData");
  }

  const { views, missing } = metricViews(input, ready);
  if (views.length === 0) {
    notes.push(`no data for ${missing.join(", ")}: hold`);
    return finish(current, "noData");
  }

  // 3. fuse and apply the tolerance
  let recommendation: number;
  let allWithin = true;
  if (policy.fusion === "weighted") {
    let sw = 0;
    let sr = 0;
    for (const v of views) {
      sw += v.weight;
      sr += v.weight * v.raw;
      notes.push(`${v.text} (weight ${v.weight})`);
    }
    const t = withTolerance(sr / sw, current, policy);
    notes.push(
      `weighted ${fmt(sr / sw)} → ${t.replicas}${t.within ? ` (within tolerance of ${current})` : ""}`,
    );
    recommendation = t.replicas;
    allWithin = t.within;
  } else {
    recommendation = 0;
    for (const v of views) {
      const t = withTolerance(v.raw, current, policy);
      notes.push(`${v.text} → ${t.replicas}${t.within ? ` (within tolerance of ${current})` : ""}`);
      recommendation = Math.max(recommendation, t.replicas);
      allWithin &&= t.within;
    }
  }
  let limitedBy: LimitedBy | undefined = allWithin ? "tolerance" : undefined;
  if (missing.length > 0 && recommendation < current) {
    // As the HPA: with some metrics unreadable, scale up if others say so, never down.
    notes.push(`no data for ${missing.join(", ")}: no scale-down`);
    recommendation = current;
    limitedBy = "missingMetric";
  }

  // 3b. backlog: extra capacity until the present queue has drained. Not demand, so it is not
  // recorded for the stabilization windows and panic does not hold it.
  let desired = recommendation;
  const backlog = backlogReplicas(input, ready, state.scaleEvents, state.serviceRate);
  if (backlog?.measured) state.serviceRate = backlog.measured;
  if (backlog) {
    const t = withTolerance(backlog.raw, current, policy);
    notes.push(
      `${backlog.text} → ${t.replicas}${t.within ? ` (within tolerance of ${current})` : ""}`,
    );
    if (t.replicas > desired) {
      desired = t.replicas;
      limitedBy = "backlog";
    }
  }

  // 6a. panic state (Knative KPA: autoscaler.go Scale(); https://knative.dev/docs/serving/autoscaling/kpa-specific/)
  let panicDesired = 0;
  if (policy.panic) {
    const pw = policy.panic.windowSeconds * 1000;
    let shortRaw = 0;
    for (const v of views) {
      const avg = windowAverage(v.samples, now - pw, now);
      // Panic sizes on demand; the backlog rule's extra is transient and must not be held by panic.
      if (avg !== undefined) shortRaw = Math.max(shortRaw, avg / v.target);
    }
    panicDesired = ceilReplicas(shortRaw);
    const over = panicDesired / Math.max(1, ready) >= policy.panic.threshold;
    if (over) {
      if (!state.panic)
        notes.push(
          `panic: ${panicDesired} needed over ${policy.panic.windowSeconds}s vs ${ready} ready (≥ ${policy.panic.threshold}×)`,
        );
      state.panic = {
        since: state.panic?.since ?? now,
        lastOver: now,
        maxReplicas: state.panic?.maxReplicas ?? 0,
      };
    } else if (
      state.panic &&
      now - state.panic.lastOver >= policy.panic.stableWindowSeconds * 1000
    ) {
      notes.push(
        `panic over: under ${policy.panic.threshold}× for ${policy.panic.stableWindowSeconds}s`,
      );
      delete state.panic;
    }
  }

  // 4. stabilization
  const st = stabilize(state.recommendations, desired, current, up, down, now);
  state.recommendations.push({ t: now, replicas: recommendation });
  if (st.heldBy === "scaleDown") {
    notes.push(
      `scaleDown stabilization (${down.stabilizationWindowSeconds}s) holds the highest recent recommendation, ${st.replicas}`,
    );
    limitedBy = "stabilization";
  } else if (st.heldBy === "scaleUp") {
    notes.push(
      `scaleUp stabilization (${up.stabilizationWindowSeconds}s) holds the lowest recent recommendation, ${st.replicas}`,
    );
    limitedBy = "stabilization";
  }

  // 6b. panic sizing: at once, never down, never below the panic's high-water mark
  if (state.panic) {
    const panic = state.panic;
    let d = Math.max(st.replicas, panicDesired, current, panic.maxReplicas);
    if (d > max) {
      d = max;
      limitedBy = "maxReplicas";
      notes.push(`panic: capped at maxReplicas ${max}`);
    } else if (d !== st.replicas) {
      limitedBy = "panic";
      notes.push(
        d > st.replicas
          ? `panic: ${d} at once (short-window ${panicDesired}, no rate limit, no scale-down)`
          : `panic: no scale-down`,
      );
    }
    panic.maxReplicas = Math.max(panic.maxReplicas, d);
    return finish(d, limitedBy, recommendation);
  }

  // 5. rate policies and bounds
  const rl = limitRate(st.replicas, current, state.scaleEvents, up, down, min, max, now);
  if (rl.limitedBy) {
    limitedBy = rl.limitedBy;
    const what =
      rl.limitedBy === "maxReplicas" || rl.limitedBy === "minReplicas"
        ? `${rl.limitedBy} ${rl.bound}`
        : rl.limitedBy.endsWith("disabled")
          ? `${rl.limitedBy.split(".")[0]} is Disabled`
          : `${rl.limitedBy} (${describePolicies(rl.limitedBy.startsWith("scaleUp") ? up : down)}) allow ${rl.bound} now`;
    notes.push(`limited by ${what}`);
  }
  return finish(rl.replicas, limitedBy, recommendation);
}

function describePolicies(rules: ScalingPolicySpec["behavior"]["scaleUp"]): string {
  const ps = rules.policies.map(
    (p) => `${p.value}${p.type === "Percent" ? "%" : " pods"}/${p.periodSeconds}s`,
  );
  return `${ps.join(", ")}; ${rules.selectPolicy}`;
}
