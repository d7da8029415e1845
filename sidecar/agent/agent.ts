import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../services/kit/logger.ts";
import type { AgentMetrics } from "./metrics.ts";
import type { ScrapeResult } from "./scrape.ts";
import type { Unsequenced } from "./sender.ts";
import { type AgentState, INITIAL_STATE, leavingReport, type StepParams, step } from "./step.ts";

export interface AgentDeps {
  params: StepParams;
  scrapeIntervalMs: number;
  scrape: (signal: AbortSignal) => Promise<ScrapeResult>;
  /** Hands a report to the sender (which keeps only the newest). */
  offer: (report: Unsequenced) => void;
  metrics: AgentMetrics;
  logger: Logger;
  now?: () => number;
}

/**
 * The scrape loop: every interval, scrape the app, step the pure state machine, hand any report
 * to the sender. Scrapes run one at a time at a fixed rate; a scrape that overruns its slot
 * delays the next one rather than piling up.
 */
export class Agent {
  readonly #deps: AgentDeps;
  readonly #now: () => number;
  #state: AgentState = INITIAL_STATE;

  constructor(deps: AgentDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  get state(): AgentState {
    return this.#state;
  }

  async run(signal: AbortSignal): Promise<void> {
    const interval = this.#deps.scrapeIntervalMs;
    let next = performance.now();
    while (!signal.aborted) {
      await this.tick(signal);
      next += interval;
      const wait = next - performance.now();
      if (wait < 0) {
        next = performance.now();
        continue;
      }
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        return;
      }
    }
  }

  /** One scrape and what follows from it. */
  async tick(signal: AbortSignal): Promise<void> {
    const { metrics, logger } = this.#deps;
    const started = performance.now();
    const result = await this.#deps.scrape(signal);
    if (signal.aborted) return;
    const seconds = (performance.now() - started) / 1000;
    metrics.scrapeDone(seconds, result.app === "unreachable" ? result.failure : undefined);

    const before = this.#state;
    const out = step(before, result, this.#deps.params);
    this.#state = out.state;
    metrics.observed(result.app, out.derived?.signals ?? {});

    if (before.lastApp !== result.app) {
      const fields =
        result.app === "unreachable"
          ? { app: result.app, reason: result.detail }
          : { app: result.app };
      if (result.app === "ready") logger.info(fields, "app state");
      else logger.warn(fields, "app state");
    }
    if (out.jumped) logger.debug({ signal: out.jumped, reason: out.reason }, "signal jumped");
    if (out.report) {
      logger.debug(
        { reason: out.reason, app: out.report.app, signals: out.report.signals },
        "report",
      );
      this.#deps.offer(out.report);
    }
  }

  leavingReport(): Unsequenced {
    return leavingReport(this.#state, this.#deps.params.identity, this.#now());
  }
}
