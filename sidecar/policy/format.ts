/** Small number helpers shared by the rules. */

/** ceil that forgives float noise: 24.000000001 replicas is 24. */
export function ceilReplicas(x: number): number {
  return Math.max(0, Math.ceil(x - 1e-9));
}

/** A number for a reason: one decimal from 100, three significant digits below. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100 || Number.isInteger(x)) return String(Math.round(x * 10) / 10);
  return x.toPrecision(3);
}
