/**
 * The recommend stage: the HPA's per-metric sizing (horizontal.go computeReplicasForMetrics,
 * replica_calculator.go), raised by the lookahead forecast, fused over metrics, with the tolerance.
 */
import type { ScalingPolicySpec } from "../protocol/policy.ts";
import type { SignalName } from "../protocol/signals.ts";
import { ceilReplicas, fmt } from "./format.ts";
import { forecast, lookaheadSeconds } from "./lookahead.ts";
import { type Sample, totals, windowAverage } from "./series.ts";
import type { AggregatedPoint, DecideInput, LimitedBy, StageOutcome } from "./types.ts";

export interface MetricView {
  name: SignalName;
  target: number;
  weight: number;
  samples: Sample[];
  /** fractional replicas the metric asks for */
  raw: number;
  text: string;
}

export interface Recommendation extends StageOutcome {
  /** the metrics read (panic sizes on their short window); empty when there was no data */
  views: MetricView[];
  /** no fresh data: the decision holds the current size and skips to the floors */
  hold: boolean;
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
    views.push({ name: m.name, target: m.averageValue, weight: m.weight, samples, raw, text });
  }
  return { views, missing };
}

/**
 * Tolerance per direction on the ratio desired/current, as the HPA compares it
 * (replica_calculator.go, Tolerances.isWithin: 1 - down <= ratio <= 1 + up). Comparing the ratio
 * with 1 + tolerance, not ratio - 1 with the tolerance, keeps 10 pods at 110 % at 10 as the HPA
 * does: 1.1 - 1 is 0.10000000000000009 in floating point.
 */
export function withTolerance(raw: number, current: number, policy: ScalingPolicySpec) {
  const ratio = current > 0 ? raw / current : Number.POSITIVE_INFINITY;
  const within =
    1 - policy.behavior.scaleDown.tolerance <= ratio &&
    ratio <= 1 + policy.behavior.scaleUp.tolerance;
  return { replicas: within ? current : ceilReplicas(raw), within, ratio };
}

/** A line for a reason: the size after the tolerance, saying when the tolerance kept it. */
export function toleranceText(t: { replicas: number; within: boolean }, current: number): string {
  return `${t.replicas}${t.within ? ` (within tolerance of ${current})` : ""}`;
}

export function recommend(input: DecideInput, ready: number): Recommendation {
  const { policy, now } = input;
  const current = input.currentReplicas;
  const notes: string[] = [];
  const hold = (note: string): Recommendation => ({
    replicas: current,
    limitedBy: "noData",
    notes: [note],
    views: [],
    hold: true,
  });

  // No fresh report: hold. Silence is not zero load.
  let newest: AggregatedPoint | undefined;
  for (const p of input.history)
    if (p.pods > 0 && p.t <= now && (!newest || p.t > newest.t)) newest = p;
  if (!newest || now - newest.t > policy.staleAfterSeconds * 1000) {
    return hold(
      newest
        ? `no fresh reports (newest ${fmt((now - newest.t) / 1000)}s old > staleAfterSeconds ${policy.staleAfterSeconds}): hold`
        : "no reports yet: hold",
    );
  }
  const { views, missing } = metricViews(input, ready);
  if (views.length === 0) return hold(`no data for ${missing.join(", ")}: hold`);

  let replicas: number;
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
    notes.push(`weighted ${fmt(sr / sw)} → ${toleranceText(t, current)}`);
    replicas = t.replicas;
    allWithin = t.within;
  } else {
    replicas = 0;
    for (const v of views) {
      const t = withTolerance(v.raw, current, policy);
      notes.push(`${v.text} → ${toleranceText(t, current)}`);
      replicas = Math.max(replicas, t.replicas);
      allWithin &&= t.within;
    }
  }
  let limitedBy: LimitedBy | undefined = allWithin ? "tolerance" : undefined;
  if (missing.length > 0 && replicas < current) {
    // As the HPA: with some metrics unreadable, scale up if others say so, never down.
    notes.push(`no data for ${missing.join(", ")}: no scale-down`);
    replicas = current;
    limitedBy = "missingMetric";
  }
  return { replicas, notes, views, hold: false, ...(limitedBy ? { limitedBy } : {}) };
}
