/**
 * Token buckets keyed by pod: an agent may send `ratePerSecond` reports a second with bursts of
 * `burst`. A misbehaving agent is slowed without touching the others. Time is a parameter.
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(ratePerSecond: number, burst: number) {
    this.#rate = ratePerSecond;
    this.#burst = burst;
  }

  /** Takes a token for `key`; returns 0 when allowed, else seconds until one is free. */
  take(key: string, now: number): number {
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    // A clock stepped back is no time passed: read as negative, it would leave the bucket in
    // debt (and the pod refused) for as long as the step.
    const elapsed = Math.max(0, now - b.at);
    b.tokens = Math.min(this.#burst, b.tokens + (elapsed / 1000) * this.#rate);
    b.at = now;
    this.#buckets.set(key, b);
    if (this.#buckets.size > 100_000) this.#prune(now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.#rate;
  }

  /** Drops full buckets (idle pods) so memory follows the live pod set. */
  #prune(now: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + (Math.max(0, now - b.at) / 1000) * this.#rate >= this.#burst) {
        this.#buckets.delete(k);
      }
    }
  }
}
