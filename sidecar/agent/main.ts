// The per-pod agent: scrapes its app's metrics, derives load signals, reports to the controller.
// Dev: `npx tsx sidecar/agent/main.ts`; built: `node dist/sidecar/agent/main.js`.
import { createApp } from "../../services/kit/app.ts";
import { configOrExit } from "../../services/kit/config.ts";
import { Health } from "../../services/kit/health.ts";
import { createLogger } from "../../services/kit/logger.ts";
import { createHttpMetrics, createRegistry } from "../../services/kit/metrics.ts";
import { listen } from "../../services/kit/server.ts";
import { createShutdown } from "../../services/kit/shutdown.ts";
import { Agent } from "./agent.ts";
import { parseAgentConfig } from "./config.ts";
import { controllerClient, reportsUrl } from "./controller-client.ts";
import { httpFetch } from "./http-fetch.ts";
import { createAgentMetrics } from "./metrics.ts";
import { scraper } from "./scrape.ts";
import { LatestSender } from "./sender.ts";
import { fileToken, staticToken, type TokenSource } from "./token.ts";

const config = configOrExit(parseAgentConfig(process.env));
const logger = createLogger({ name: "swell-agent", level: config.logLevel });
const registry = createRegistry();
const metrics = createAgentMetrics(registry);

const token: TokenSource =
  config.token.kind === "file"
    ? fileToken(config.token.path, (message) => logger.warn(message))
    : staticToken(config.token.kind === "static" ? config.token.value : undefined);

const request = httpFetch();
let controllerUp: boolean | undefined;
const sender = new LatestSender({
  post: controllerClient({
    baseUrl: config.controllerUrl,
    timeoutMs: config.timeoutMs,
    token,
    fetch: request,
  }),
  // Capped near the controller's pod TTL, so a controller that comes back hears from every pod soon.
  backoff: { baseMs: 100, maxMs: Math.max(2000, config.reportIntervalMs) },
  // Above any seq an earlier agent in this pod sent (one a scrape at most), so a restarted
  // sidecar is not refused as a replay.
  firstSeq: Date.now(),
  latest: () => agent.state.latest,
  events: {
    attempt(report, outcome, ms) {
      metrics.reportDone(ms / 1000, outcome);
      if (outcome.kind === "refused") {
        logger.warn(
          { seq: report.seq, status: outcome.status, reason: outcome.reason },
          "report refused",
        );
      }
      const up = outcome.kind !== "retry";
      if (up !== controllerUp) {
        if (up) logger.info({ seq: report.seq }, "controller reachable");
        else
          logger.warn({ reason: outcome.reason }, "controller unavailable, retrying with backoff");
        controllerUp = up;
      }
    },
    superseded: () => metrics.superseded(),
  },
});

const agent = new Agent({
  params: {
    identity: { workload: config.workload, pod: { name: config.pod.name, uid: config.pod.uid } },
    specs: config.specs,
    shortWindowMs: config.shortWindowMs,
    longWindowMs: config.longWindowMs,
    slackMs: config.scrapeIntervalMs / 2,
    reportIntervalMs: config.reportIntervalMs,
    jumpMinGapMs: config.jumpMinGapMs,
  },
  scrapeIntervalMs: config.scrapeIntervalMs,
  scrape: scraper({
    metricsUrl: config.metricsUrl,
    readyUrl: config.readyUrl,
    timeoutMs: config.timeoutMs,
    fetch: request,
  }),
  offer: (report) => sender.offer(report),
  metrics,
  logger,
});

const health = new Health();
const app = createApp({
  logger,
  registry,
  metrics: createHttpMetrics(registry),
  health,
  maxBodyBytes: 1024,
});
const server = await listen(app, { host: config.host, port: config.port });

const shutdown = createShutdown({
  health,
  server,
  logger,
  // Nothing routes traffic to the agent: no need to stay up while endpoints catch up.
  delayMs: 0,
  timeoutMs: config.leaveTimeoutMs,
  drainHooks: [
    {
      name: "agent",
      async drain(deadline) {
        await Promise.allSettled([running, sending]);
        const outcome = await sender.sendFinal(agent.leavingReport(), deadline);
        return { leaving_report: outcome.kind };
      },
    },
  ],
  exit: (code) => process.exit(code),
  signals: process,
});

const running = agent.run(shutdown.signal);
const sending = sender.run(shutdown.signal);
health.markReady();
logger.info(
  {
    url: server.url,
    metrics_url: config.metricsUrl.href,
    ready_url: config.readyUrl?.href ?? null,
    reports_url: reportsUrl(config.controllerUrl).href,
    workload: config.workload,
    pod: config.pod,
    scrape_interval_ms: config.scrapeIntervalMs,
    report_interval_ms: config.reportIntervalMs,
    token: config.token.kind === "file" ? `file ${config.token.path}` : config.token.kind,
    signals: Object.fromEntries(
      Object.entries(config.specs).map(([name, sels]) => [
        name,
        sels.map((s) => s.text).join(" or ") || "none",
      ]),
    ),
  },
  "agent started",
);
if (config.token.kind === "none") {
  logger.warn(
    "neither SWELL_TOKEN nor SWELL_TOKEN_FILE is set: reports carry no Authorization header",
  );
}
