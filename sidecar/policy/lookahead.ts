/** Lookahead: where a steady rise of demand will be when new capacity is ready. */
import type { ScalingPolicySpec } from "../protocol/policy.ts";
import { type Sample, trend } from "./series.ts";

/**
 * How far ahead the forecast looks: capacity asked for now is ready one cold start from now and
 * must carry the load until the next decision's capacity can land; a report's rate is also about
 * half a report old. Reports come about once a second, hence the 2 s.
 */
export function lookaheadSeconds(policy: ScalingPolicySpec): number {
  return policy.coldStartSeconds + 2;
}

/** A slope counts as rising when it is this many standard errors above zero (noise rarely is). */
const TREND_T = 2;

/**
 * Demand expected `aheadSeconds` from now, when it has been rising steadily: both half-windows'
 * least-squares slopes must be significantly positive, and the smaller one is used, so a one-off
 * step (flat, then flat again) or noise forecasts nothing while a ramp or a swell does.
 */
export function forecast(
  samples: readonly Sample[],
  now: number,
  windowMs: number,
  aheadSeconds: number,
) {
  const half = windowMs / 2;
  const older = trend(samples, now - windowMs, now - half);
  const recent = trend(samples, now - half, now);
  const rising = (t: typeof older) =>
    t !== undefined && t.slopePerSecond > TREND_T * t.slopeStdError;
  if (!older || !recent || !rising(older) || !rising(recent)) return undefined;
  const slopePerSecond = Math.min(older.slopePerSecond, recent.slopePerSecond);
  return { slopePerSecond, value: recent.valueNow + slopePerSecond * aheadSeconds };
}
