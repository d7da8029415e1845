import { setTimeout as sleep } from "node:timers/promises";
import type { Report } from "../protocol/report.ts";
import { type BackoffOptions, backoffDelay } from "./backoff.ts";

/** The longest Retry-After the sender waits by default; a longer one is read as this. */
export const MAX_RETRY_AFTER_MS = 30_000;

/** A report before the sender numbers it: seq is given when it is first sent. */
export type Unsequenced = Omit<Report, "seq">;

/** What one POST to the controller came to. */
export type PostOutcome =
  | { kind: "accepted"; status: number }
  /** The controller is down, overloaded or unreachable: worth sending again (the newest). */
  | { kind: "retry"; reason: string; status?: number; retryAfterMs?: number }
  /** The controller refused this report and would refuse it again (4xx): drop it. */
  | { kind: "refused"; reason: string; status: number };

export type Post = (report: Report, signal: AbortSignal) => Promise<PostOutcome>;

export interface SenderEvents {
  /** After every attempt, with how long it took. */
  attempt?(report: Report, outcome: PostOutcome, durationMs: number): void;
  /** A report dropped undelivered because a newer one replaced it. */
  superseded?(): void;
}

export interface SenderOptions {
  post: Post;
  backoff: BackoffOptions;
  /** The first seq; each report sent takes the next. */
  firstSeq: number;
  /**
   * The newest observation, offered or not (the agent scrapes more often than it reports).
   * A retry sends this instead of the report that failed, so what arrives after an outage is
   * as fresh as the last scrape.
   */
  latest?: () => Unsequenced | undefined;
  random?: () => number;
  events?: SenderEvents;
  /** The longest Retry-After waited; MAX_RETRY_AFTER_MS by default. */
  maxRetryAfterMs?: number;
}

/**
 * Delivers reports to the controller, keeping only the newest: while the controller is down it
 * retries with jittered exponential backoff, and a report offered meanwhile replaces the one
 * waiting, so a controller that comes back gets the current state, never a backlog of stale
 * ones. A report's seq is given on its first attempt and kept on its retries.
 */
export class LatestSender {
  readonly #post: Post;
  readonly #backoff: BackoffOptions;
  readonly #random: () => number;
  readonly #events: SenderEvents;
  readonly #latest: () => Unsequenced | undefined;
  readonly #maxRetryAfterMs: number;
  #nextSeq: number;
  #pending: Unsequenced | undefined;
  #wake: (() => void) | undefined;

  constructor(options: SenderOptions) {
    this.#post = options.post;
    this.#backoff = options.backoff;
    this.#random = options.random ?? Math.random;
    this.#events = options.events ?? {};
    this.#latest = options.latest ?? (() => undefined);
    this.#nextSeq = options.firstSeq;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS;
  }

  /** Queues `report` for sending, replacing any report still waiting. Never blocks. */
  offer(report: Unsequenced): void {
    if (this.#pending) this.#events.superseded?.();
    this.#pending = report;
    this.#wake?.();
  }

  /** Sends offered reports until `signal` aborts. A report waiting then stays undelivered. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const next = await this.#take(signal);
      if (!next) return;
      let source = next;
      let report = this.#number(next);
      for (let attempt = 0; ; attempt++) {
        const outcome = await this.#attempt(report, signal);
        if (outcome.kind !== "retry" || signal.aborted) break;
        // Retry-After is honoured up to a bound: a controller whose clock jumped, or a bad
        // proxy, must not silence the agent for an hour.
        const delay = Math.max(
          Math.min(outcome.retryAfterMs ?? 0, this.#maxRetryAfterMs),
          backoffDelay(attempt, this.#random(), this.#backoff),
        );
        try {
          await sleep(delay, undefined, { signal });
        } catch {
          return;
        }
        // Whatever was observed while waiting is newer than what failed: send that instead.
        const pending = this.#pending;
        this.#pending = undefined;
        const newer = this.#latest() ?? pending;
        if (pending && pending !== newer) this.#events.superseded?.();
        if (newer && newer !== source) {
          this.#events.superseded?.();
          source = newer;
          report = this.#number(newer);
        }
      }
    }
  }

  /**
   * Sends one last report (the leaving one) at once, retrying with backoff until `signal`
   * aborts. Call after `run` has stopped. Returns the last outcome.
   */
  async sendFinal(report: Unsequenced, signal: AbortSignal): Promise<PostOutcome> {
    this.#pending = undefined;
    const numbered = this.#number(report);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.#attempt(numbered, signal);
      if (outcome.kind !== "retry" || signal.aborted) return outcome;
      try {
        await sleep(backoffDelay(attempt, this.#random(), this.#backoff), undefined, { signal });
      } catch {
        return outcome;
      }
    }
  }

  #number(report: Unsequenced): Report {
    return { ...report, seq: this.#nextSeq++ };
  }

  async #attempt(report: Report, signal: AbortSignal): Promise<PostOutcome> {
    const start = performance.now();
    let outcome: PostOutcome;
    try {
      outcome = await this.#post(report, signal);
    } catch (error) {
      outcome = { kind: "retry", reason: error instanceof Error ? error.message : String(error) };
    }
    this.#events.attempt?.(report, outcome, performance.now() - start);
    return outcome;
  }

  async #take(signal: AbortSignal): Promise<Unsequenced | undefined> {
    while (!this.#pending) {
      if (signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          this.#wake = undefined;
          resolve();
        };
        this.#wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
    const report = this.#pending;
    this.#pending = undefined;
    return report;
  }
}
