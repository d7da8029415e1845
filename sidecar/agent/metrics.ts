import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { AppState } from "../protocol/report.ts";
import { SIGNAL_NAMES, type Signals } from "../protocol/report.ts";
import type { ScrapeFailure } from "./scrape.ts";
import type { PostOutcome } from "./sender.ts";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const APP_STATES: AppState[] = ["ready", "notReady", "unreachable"];

export interface AgentMetrics {
  scrapeDone(seconds: number, failure: ScrapeFailure | undefined): void;
  reportDone(seconds: number, outcome: PostOutcome): void;
  superseded(): void;
  observed(app: AppState, signals: Signals): void;
}

/** The agent's own metrics (swell_agent_*), registered on `registry`. */
export function createAgentMetrics(registry: Registry): AgentMetrics {
  const registers = [registry];
  const scrapeDuration = new Histogram({
    name: "swell_agent_scrape_duration_seconds",
    help: "Time to read the app's metrics and readiness, failed scrapes included.",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const scrapeFailures = new Counter({
    name: "swell_agent_scrape_failures_total",
    help: "Scrapes that could not read the app's metrics, by reason.",
    labelNames: ["reason"],
    registers,
  });
  const reportDuration = new Histogram({
    name: "swell_agent_report_duration_seconds",
    help: "Time of each POST of a report to the controller, failed ones included.",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const reportsAccepted = new Counter({
    name: "swell_agent_reports_accepted_total",
    help: "Reports the controller accepted.",
    registers,
  });
  const reportFailures = new Counter({
    name: "swell_agent_report_failures_total",
    help: "Report attempts that failed: unavailable (retried) or refused (4xx, dropped).",
    labelNames: ["reason"],
    registers,
  });
  const reportsSuperseded = new Counter({
    name: "swell_agent_reports_superseded_total",
    help: "Reports dropped undelivered because a newer one replaced them while the controller was unavailable.",
    registers,
  });
  const appState = new Gauge({
    name: "swell_agent_app_state",
    help: "1 for the app's state as last seen (ready, notReady, unreachable), 0 for the others.",
    labelNames: ["state"],
    registers,
  });
  const signal = new Gauge({
    name: "swell_agent_signal",
    help: "Last derived value of each load signal; absent while unknown.",
    labelNames: ["signal"],
    registers,
  });
  for (const name of ["timeout", "connection", "status", "parse"])
    scrapeFailures.inc({ reason: name }, 0);
  for (const name of ["unavailable", "refused"]) reportFailures.inc({ reason: name }, 0);

  return {
    scrapeDone(seconds, failure) {
      scrapeDuration.observe(seconds);
      if (failure) scrapeFailures.inc({ reason: failure });
    },
    reportDone(seconds, outcome) {
      reportDuration.observe(seconds);
      if (outcome.kind === "accepted") reportsAccepted.inc();
      else reportFailures.inc({ reason: outcome.kind === "retry" ? "unavailable" : "refused" });
    },
    superseded: () => reportsSuperseded.inc(),
    observed(app, signals) {
      for (const state of APP_STATES) appState.set({ state }, state === app ? 1 : 0);
      for (const name of SIGNAL_NAMES) {
        const v = signals[name];
        if (v === undefined) signal.remove({ signal: name });
        else signal.set({ signal: name }, v);
      }
    },
  };
}
