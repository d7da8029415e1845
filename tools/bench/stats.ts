/** Pure numbers for the benchmarks: no I/O, no clocks. */

/** The p-th percentile (0..100) by linear interpolation between closest ranks; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (p < 0 || p > 100) throw new RangeError(`percentile must be 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** a / b, NaN when b is not a positive number (a ratio against nothing means nothing). */
export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) ? a / b : Number.NaN;
}

/** Rounds to `digits` decimals, keeping NaN as NaN (so JSON shows null, the table "n/a"). */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * CPU use as percent of one core between two readings of a process's CPU time (seconds) taken
 * `wallSeconds` apart.
 */
export function cpuPercent(
  cpuSecondsBefore: number,
  cpuSecondsAfter: number,
  wallSeconds: number,
): number {
  return ratio(cpuSecondsAfter - cpuSecondsBefore, wallSeconds) * 100;
}

/**
 * The order of the contenders in round `round` of an alternating benchmark: rotated by one each
 * round, so no contender always runs first (right after a warm-up) or last.
 */
export function rotation<T>(contenders: readonly T[], roundIndex: number): T[] {
  const n = contenders.length;
  if (n === 0) return [];
  const k = ((roundIndex % n) + n) % n;
  return [...contenders.slice(k), ...contenders.slice(0, k)];
}
