import { setTimeout as sleep } from "node:timers/promises";
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { createApp, KIT_PATHS, parseJsonBody } from "../kit/app.ts";
import { envVars, httpServerEnv, loadConfig, serverLimits } from "../kit/config.ts";
import { faultEnv, registerFaults } from "../kit/faults.ts";
import { Health } from "../kit/health.ts";
import { requestJson } from "../kit/http-client.ts";
import { infoHandler, serviceInfo } from "../kit/info.ts";
import { ConcurrencyLimiter } from "../kit/limiter.ts";
import { createLogger } from "../kit/logger.ts";
import { createHttpMetrics, createRegistry } from "../kit/metrics.ts";
import { serveOpenApi } from "../kit/openapi.ts";
import { listen } from "../kit/server.ts";
import { createShutdown } from "../kit/shutdown.ts";
import { startTracing } from "../kit/tracing.ts";
import { apiOpenApi } from "./openapi.ts";
import { submitJob } from "./worker-client.ts";

/**
 * api: an HTTP sample service, scaled on request rate. `POST /orders` validates an order and
 * submits a job for it to the worker. Each replica has a bounded capacity (API_CONCURRENCY
 * requests at once, API_WORK_MS of simulated work each), so load above it builds latency and
 * more replicas help, even on one machine.
 */
const config = loadConfig(
  z.object({
    ...httpServerEnv,
    ...faultEnv,
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

const limiter = new ConcurrencyLimiter({
  concurrency: config.API_CONCURRENCY,
  maxWaiting: config.API_MAX_WAITING,
});
/** The replica's bounded capacity: wait for a slot, then do API_WORK_MS of simulated work. */
const capacity: MiddlewareHandler = (_c, next) =>
  limiter.run(async () => {
    await sleep(config.API_WORK_MS);
    await next();
  });

const app = createApp({
  logger,
  registry,
  metrics: createHttpMetrics(registry),
  health,
  maxBodyBytes: config.MAX_BODY_BYTES,
});
registerFaults(app, { maxDelayMs: config.FAULT_MAX_DELAY });
const info = serviceInfo("api", config, import.meta.dirname);
app.get("/", capacity, infoHandler(info));

const orderBody = z.object({
  item: z.string().min(1).max(200),
  quantity: z.number().int().min(1).max(10_000),
  /** Simulated work for the worker's job; the worker's JOB_COST_MS when absent. */
  costMs: z.number().min(0).max(60_000).optional(),
});
app.post("/orders", capacity, async (c) => {
  const order = await parseJsonBody(c, orderBody);
  const job = await submitJob(
    (url, options) => requestJson(url, options),
    config.WORKER_URL,
    { costMs: order.costMs },
    AbortSignal.timeout(config.WORKER_TIMEOUT),
  );
  logger.info({ job_id: job.id, item: order.item, quantity: order.quantity }, "order accepted");
  return c.json({ jobId: job.id, item: order.item, quantity: order.quantity }, 202);
});

serveOpenApi(
  app,
  apiOpenApi({ version: info.version, orderBody, maxDelayMs: config.FAULT_MAX_DELAY }),
);

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
