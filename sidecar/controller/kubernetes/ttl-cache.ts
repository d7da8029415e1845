/** A small map whose entries expire; the oldest go first when it is full. */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #max: number;
  readonly #clock: () => number;

  constructor(max: number, clock: () => number = Date.now) {
    this.#max = max;
    this.#clock = clock;
  }

  get(key: string): { value: V } | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.#clock()) {
      this.#entries.delete(key);
      return undefined;
    }
    return { value: e.value };
  }

  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: this.#clock() + ttlMs });
  }
}
