import { z } from "zod";
import { createApp, KIT_PATHS } from "../kit/app.ts";
import { envVars, httpServerEnv, loadConfig, serverLimits } from "../kit/config.ts";
import { faultEnv, registerFaults } from "../kit/faults.ts";
import { Health } from "../kit/health.ts";
import { requestJson } from "../kit/http-client.ts";
import { serviceInfo } from "../kit/info.ts";
import { ConcurrencyLimiter } from "../kit/limiter.ts";
import { createLogger } from "../kit/logger.ts";
import { createHttpMetrics, createRegistry } from "../kit/metrics.ts";
import { serveOpenApi } from "../kit/openapi.ts";
import { listen } from "../kit/server.ts";
import { createShutdown } from "../kit/shutdown.ts";
import { startTracing, tracingEnv } from "../kit/tracing.ts";
import { apiOpenApi } from "./openapi.ts";
import { addApiRoutes } from "./routes.ts";

/**
 * api: an HTTP sample service, scaled on request rate; its routes are in routes.ts. Each
 * replica has a bounded capacity (API_CONCURRENCY requests at once, API_WORK_MS of simulated
 * work each), so load above it builds latency and more replicas help, even on one machine.
 */
const config = loadConfig(
  z.object({
    ...httpServerEnv,
    ...faultEnv,
    ...tracingEnv,
    POD_NAME: envVars.string().optional(),
    SERVICE_VERSION: envVars.string().optional(),
    WORKER_URL: envVars.httpUrl().default(new URL("http://127.0.0.1:8081")),
    WORKER_TIMEOUT: envVars.durationMs(60_000).default(5000),
    API_CONCURRENCY: envVars.positiveInt(10_000).default(16),
    API_WORK_MS: envVars.nonNegativeInt(60_000).default(20),
    API_MAX_WAITING: envVars.nonNegativeInt(1_000_000).default(1000),
  }),
);
const tracing = await startTracing({ serviceName: "api", ignorePaths: KIT_PATHS });
const logger = createLogger({ name: "api", level: config.LOG_LEVEL });
const registry = createRegistry();
const health = new Health();

const app = createApp({
  logger,
  registry,
  metrics: createHttpMetrics(registry),
  health,
  maxBodyBytes: config.MAX_BODY_BYTES,
  tracing: tracing.requests,
});
registerFaults(app, { maxDelayMs: config.FAULT_MAX_DELAY });
const info = serviceInfo("api", config, import.meta.dirname);
addApiRoutes(app, {
  logger,
  info,
  limiter: new ConcurrencyLimiter({
    concurrency: config.API_CONCURRENCY,
    maxWaiting: config.API_MAX_WAITING,
  }),
  workMs: config.API_WORK_MS,
  worker: { url: config.WORKER_URL, timeoutMs: config.WORKER_TIMEOUT, request: requestJson },
});

serveOpenApi(app, apiOpenApi({ version: info.version, maxDelayMs: config.FAULT_MAX_DELAY }));

const server = await listen(app, {
  host: config.HOST,
  port: config.PORT,
  limits: serverLimits(config),
}).catch((err) => {
  logger.fatal({ err }, "cannot listen");
  process.exit(1);
});
createShutdown({
  health,
  server,
  logger,
  delayMs: config.SHUTDOWN_DELAY,
  timeoutMs: config.SHUTDOWN_TIMEOUT,
  flush: [() => tracing.shutdown()],
  exit: (code) => process.exit(code),
  signals: process,
});
health.markReady();
logger.info(
  { url: server.url, tracing: tracing.enabled, worker_url: config.WORKER_URL.href },
  "listening",
);
