/**
 * Reading one signal of a workload out of the aggregated history: totals that do not read a
 * silent pod as zero load, time-weighted window averages and the trend.
 */
import type { SignalName } from "../protocol/signals.ts";
import type { AggregatedPoint } from "./types.ts";

export interface Sample {
  t: number;
  /** the signal's total: reporting pods' sum plus the fill for ready pods that did not report */
  v: number;
  /** reporting pods */
  pods: number;
}

/** Without `ready` on a point, a pod that reported this recently is assumed still there. */
export const MISSING_POD_GRACE_MS = 10_000;

/**
 * The workload-wide total of `signal` at each point: the sum over the pods that reported, plus
 * `fill` for each ready pod that did not (pods that never reported, or went silent). Callers
 * bracket the truth the way the HPA does (replica_calculator.go): `fill` 0 for the least the
 * workload can be seeing, the per-pod target for the most it may be asked to carry.
 */
export function totals(
  history: readonly AggregatedPoint[],
  signal: SignalName,
  readyNow: number,
  fill: number,
): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < history.length; i++) {
    const p = history[i] as AggregatedPoint;
    const sum = p.signals[signal];
    if (p.pods <= 0 || sum === undefined || !Number.isFinite(sum)) continue;
    let expected = p.ready;
    if (expected === undefined) {
      let recent = p.pods;
      for (let j = i - 1; j >= 0; j--) {
        const q = history[j] as AggregatedPoint;
        if (p.t - q.t > MISSING_POD_GRACE_MS) break;
        recent = Math.max(recent, q.pods);
      }
      expected = Math.min(recent, readyNow);
    }
    const missing = Math.max(0, expected - p.pods);
    out.push({ t: p.t, v: sum + missing * fill, pods: p.pods });
  }
  return out;
}

/** Nominal spacing of reports, used to weigh the first point of a history. */
const NOMINAL_SPACING_MS = 1000;

/**
 * Time-weighted average over (from, to]. A sample stands for the interval since the sample before
 * it (a report covers the second before it was sent). Undefined when no sample is in the window.
 */
export function windowAverage(samples: readonly Sample[], from: number, to: number) {
  let weighted = 0;
  let total = 0;
  let plain = 0;
  let count = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as Sample;
    if (s.t <= from || s.t > to) continue;
    const prevT = i > 0 ? (samples[i - 1] as Sample).t : s.t - NOMINAL_SPACING_MS;
    const w = s.t - Math.max(prevT, from);
    weighted += s.v * w;
    total += w;
    plain += s.v;
    count++;
  }
  if (count === 0) return undefined;
  return total > 0 ? weighted / total : plain / count;
}

/**
 * Least-squares line through the samples in (from, to]: slope per second and the line's value at
 * `to`. Undefined with fewer than 3 samples or when they span less than half the window.
 */
export function trend(samples: readonly Sample[], from: number, to: number) {
  const pts = samples.filter((s) => s.t > from && s.t <= to);
  if (pts.length < 3) return undefined;
  const first = (pts[0] as Sample).t;
  const last = (pts[pts.length - 1] as Sample).t;
  if (last - first < (to - from) / 2) return undefined;
  let sx = 0;
  let sy = 0;
  for (const p of pts) {
    sx += (p.t - to) / 1000;
    sy += p.v;
  }
  const mx = sx / pts.length;
  const my = sy / pts.length;
  let sxx = 0;
  let sxy = 0;
  for (const p of pts) {
    const dx = (p.t - to) / 1000 - mx;
    sxx += dx * dx;
    sxy += dx * (p.v - my);
  }
  if (sxx === 0) return undefined;
  const slopePerSecond = sxy / sxx;
  const valueNow = my - slopePerSecond * mx;
  // Standard error of the slope, from the residuals (n - 2 degrees of freedom).
  let sse = 0;
  for (const p of pts) {
    const r = p.v - (valueNow + slopePerSecond * ((p.t - to) / 1000));
    sse += r * r;
  }
  const slopeStdError =
    pts.length > 2 ? Math.sqrt(sse / (pts.length - 2) / sxx) : Number.POSITIVE_INFINITY;
  // x = 0 is `to`
  return { slopePerSecond, valueNow, slopeStdError };
}
