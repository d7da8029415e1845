import { problems } from "./problem.ts";

/**
 * At most `concurrency` tasks at once; up to `maxWaiting` more wait in FIFO order for a slot,
 * and beyond that `run` throws a 503 problem. Load above capacity so shows up as latency
 * (waiting) before it shows up as refusals.
 */
export class ConcurrencyLimiter {
  readonly concurrency: number;
  readonly maxWaiting: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(options: { concurrency: number; maxWaiting: number }) {
    this.concurrency = options.concurrency;
    this.maxWaiting = options.maxWaiting;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.concurrency) {
      if (this.#waiting.length >= this.maxWaiting) {
        throw problems.serviceUnavailable("too many requests waiting; try again shortly", 1);
      }
      // The slot is handed over by the finishing task, so #active stays counted.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
