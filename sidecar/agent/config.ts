import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { z } from "zod";
import {
  type Env,
  envVars,
  type LogLevel,
  type ParseEnvResult,
  parseEnv,
} from "../../services/kit/config.ts";
import { WorkloadRef } from "../protocol/report.ts";
import type { SignalName } from "../protocol/signals.ts";
import type { SignalSpecs } from "./derive.ts";
import { parseSelectors, type Selector } from "./selector.ts";

/**
 * Where each signal is read from by default: `a or b` means a when the app exports any series of
 * a, else b. Arrivals come first (jobs accepted + rejected), then the kit's received-per-second
 * gauge (probes and scrapes excluded), and only last finished requests, for apps that export
 * nothing better. The kit already keeps /metrics, /healthz and /readyz out of its demand
 * gauges; the route matchers keep them out of http_requests_total too.
 */
export const DEFAULT_SIGNAL_SELECTORS: Readonly<Record<SignalName, string>> = {
  requestRate:
    'work_jobs_total{outcome=~"accepted|rejected"} or http_requests_received_total or http_requests_per_second or http_requests_total{route!~"/metrics|/healthz|/readyz"}',
  queueLength: "work_queue_length",
  inFlight: "work_jobs_running or http_requests_in_flight",
  completionRate:
    'work_jobs_total{outcome=~"completed|failed"} or http_requests_total{route!~"/metrics|/healthz|/readyz"}',
  rejectRate: 'work_jobs_total{outcome="rejected"} or http_requests_total{code="429"}',
  eventLoopLagSeconds: "nodejs_eventloop_lag_p99_seconds",
};

const selectors = () =>
  z.string().transform((raw, ctx): Selector[] => {
    const parsed = parseSelectors(raw);
    if (!parsed.ok) {
      ctx.addIssue({
        code: "custom",
        message: `expected metric selectors like name{label="v"} or other_name, or none (${parsed.error})`,
      });
      return z.NEVER;
    }
    return parsed.value;
  });

const interval = () =>
  envVars.durationMs(3_600_000).refine((ms) => ms >= 10, "expected a duration of at least 10ms");

const urlOrNone = () =>
  z.string().transform((raw, ctx): URL | "none" => {
    if (raw.trim() === "none") return "none";
    try {
      const url = new URL(raw.trim());
      if (url.protocol === "http:" || url.protocol === "https:") return url;
    } catch {}
    ctx.addIssue({ code: "custom", message: "expected an http(s) URL or none" });
    return z.NEVER;
  });

const dnsName = (shape: z.ZodString) => z.string().pipe(shape);

export const agentEnv = z.object({
  HOST: envVars.host().default("0.0.0.0"),
  PORT: envVars.port().default(9091),
  LOG_LEVEL: envVars.logLevel().default("info"),
  SWELL_METRICS_URL: envVars.httpUrl().default(new URL("http://127.0.0.1:8080/metrics")),
  SWELL_READY_URL: urlOrNone().optional(),
  SWELL_CONTROLLER_URL: envVars.httpUrl().default(new URL("http://127.0.0.1:9090")),
  SWELL_WORKLOAD_NAMESPACE: dnsName(WorkloadRef.shape.namespace).optional(),
  SWELL_WORKLOAD_KIND: dnsName(WorkloadRef.shape.kind).default("Deployment"),
  SWELL_WORKLOAD_NAME: dnsName(WorkloadRef.shape.name),
  SWELL_POD_NAME: dnsName(WorkloadRef.shape.name).optional(),
  SWELL_POD_NAMESPACE: dnsName(WorkloadRef.shape.namespace).default("default"),
  SWELL_POD_UID: z.string().min(1).max(64).optional(),
  SWELL_SCRAPE_INTERVAL: interval().default(1000),
  SWELL_REPORT_INTERVAL: interval().optional(),
  SWELL_SHORT_WINDOW: interval().optional(),
  SWELL_LONG_WINDOW: interval().default(10_000),
  SWELL_JUMP_MIN_GAP: envVars.durationMs(60_000).default(250),
  SWELL_TIMEOUT: interval().default(1000),
  /** On SIGTERM, how long the agent tries to deliver its leaving report. */
  SHUTDOWN_TIMEOUT: envVars.durationMs(600_000).default(3000),
  SWELL_TOKEN: envVars.string().optional(),
  SWELL_TOKEN_FILE: envVars.string().optional(),
  SWELL_METRIC_REQUEST_RATE: selectorsFor("requestRate"),
  SWELL_METRIC_QUEUE_LENGTH: selectorsFor("queueLength"),
  SWELL_METRIC_IN_FLIGHT: selectorsFor("inFlight"),
  SWELL_METRIC_COMPLETION_RATE: selectorsFor("completionRate"),
  SWELL_METRIC_REJECT_RATE: selectorsFor("rejectRate"),
  SWELL_METRIC_EVENT_LOOP_LAG: selectorsFor("eventLoopLagSeconds"),
});

function selectorsFor(signal: SignalName) {
  return selectors().default(selectorsOf(DEFAULT_SIGNAL_SELECTORS[signal]));
}

function selectorsOf(text: string): Selector[] {
  const parsed = parseSelectors(text);
  if (!parsed.ok) throw new Error(`bad default selector: ${parsed.error}`);
  return parsed.value;
}

export type TokenConfig =
  | { kind: "none" }
  | { kind: "static"; value: string }
  | { kind: "file"; path: string };

export interface AgentConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  metricsUrl: URL;
  /** undefined: readiness is not checked (SWELL_READY_URL=none). */
  readyUrl: URL | undefined;
  controllerUrl: URL;
  workload: { namespace: string; kind: string; name: string };
  pod: { name: string; namespace: string; uid: string };
  scrapeIntervalMs: number;
  reportIntervalMs: number;
  shortWindowMs: number;
  longWindowMs: number;
  jumpMinGapMs: number;
  timeoutMs: number;
  leaveTimeoutMs: number;
  token: TokenConfig;
  specs: SignalSpecs;
}

/**
 * The agent's config from the environment. Pure but for the defaults that name this machine
 * (hostname for the pod name, a random pod uid). Problems are one line each, naming the variable.
 */
export function parseAgentConfig(
  env: Env,
  defaults: { hostname: () => string; uid: () => string } = { hostname, uid: randomUUID },
): ParseEnvResult<AgentConfig> {
  const parsed = parseEnv(agentEnv, env);
  if (!parsed.ok) return parsed;
  const v = parsed.value;
  const problems: string[] = [];
  if (v.SWELL_TOKEN && v.SWELL_TOKEN_FILE) {
    problems.push("SWELL_TOKEN_FILE: set either SWELL_TOKEN or SWELL_TOKEN_FILE, not both");
  }
  let podName = v.SWELL_POD_NAME;
  if (!podName) {
    const host = defaults.hostname().toLowerCase();
    if (WorkloadRef.shape.name.safeParse(host).success) podName = host;
    else
      problems.push(
        `SWELL_POD_NAME: required, the hostname ${JSON.stringify(host)} is not a DNS name`,
      );
  }
  const scrapeIntervalMs = v.SWELL_SCRAPE_INTERVAL;
  const shortWindowMs = v.SWELL_SHORT_WINDOW ?? Math.max(1000, scrapeIntervalMs);
  if (v.SWELL_LONG_WINDOW <= shortWindowMs) {
    problems.push(`SWELL_LONG_WINDOW: expected longer than the short window (${shortWindowMs} ms)`);
  }
  if (problems.length > 0 || !podName) return { ok: false, problems };

  const readyUrl =
    v.SWELL_READY_URL === "none"
      ? undefined
      : (v.SWELL_READY_URL ?? new URL("/readyz", v.SWELL_METRICS_URL.origin));
  const specs: SignalSpecs = {
    requestRate: v.SWELL_METRIC_REQUEST_RATE,
    queueLength: v.SWELL_METRIC_QUEUE_LENGTH,
    inFlight: v.SWELL_METRIC_IN_FLIGHT,
    completionRate: v.SWELL_METRIC_COMPLETION_RATE,
    rejectRate: v.SWELL_METRIC_REJECT_RATE,
    eventLoopLagSeconds: v.SWELL_METRIC_EVENT_LOOP_LAG,
  };
  const token: TokenConfig = v.SWELL_TOKEN
    ? { kind: "static", value: v.SWELL_TOKEN }
    : v.SWELL_TOKEN_FILE
      ? { kind: "file", path: v.SWELL_TOKEN_FILE }
      : { kind: "none" };
  return {
    ok: true,
    value: {
      host: v.HOST,
      port: v.PORT,
      logLevel: v.LOG_LEVEL,
      metricsUrl: v.SWELL_METRICS_URL,
      readyUrl,
      controllerUrl: v.SWELL_CONTROLLER_URL,
      workload: {
        namespace: v.SWELL_WORKLOAD_NAMESPACE ?? v.SWELL_POD_NAMESPACE,
        kind: v.SWELL_WORKLOAD_KIND,
        name: v.SWELL_WORKLOAD_NAME,
      },
      pod: {
        name: podName,
        namespace: v.SWELL_POD_NAMESPACE,
        uid: v.SWELL_POD_UID ?? defaults.uid(),
      },
      scrapeIntervalMs,
      reportIntervalMs: v.SWELL_REPORT_INTERVAL ?? scrapeIntervalMs,
      shortWindowMs,
      longWindowMs: v.SWELL_LONG_WINDOW,
      jumpMinGapMs: v.SWELL_JUMP_MIN_GAP,
      timeoutMs: v.SWELL_TIMEOUT,
      leaveTimeoutMs: v.SHUTDOWN_TIMEOUT,
      token,
      specs,
    },
  };
}
