import { z } from "zod";
import { createApp, KIT_PATHS } from "../kit/app.ts";
import { envVars, httpServerEnv, loadConfig, serverLimits } from "../kit/config.ts";
import { faultEnv, registerFaults } from "../kit/faults.ts";
import { Health } from "../kit/health.ts";
import { serviceInfo } from "../kit/info.ts";
import { createLogger } from "../kit/logger.ts";
import { createHttpMetrics, createRegistry } from "../kit/metrics.ts";
import { serveOpenApi } from "../kit/openapi.ts";
import { listen } from "../kit/server.ts";
import { createShutdown } from "../kit/shutdown.ts";
import { startTracing, tracingEnv } from "../kit/tracing.ts";
import { WorkQueue } from "../kit/work-queue.ts";
import { workerOpenApi } from "./openapi.ts";
import { addWorkerRoutes, type Job, MAX_COST_MS, runJob } from "./routes.ts";

/**
 * worker: a queue-backed sample service, scaled on queue length; its routes are in routes.ts.
 * A pool of WORKER_CONCURRENCY works a queue of QUEUE_CAPACITY jobs (simulated work: a timer
 * of costMs). Jobs arriving faster than they finish grow the queue.
 */
const config = loadConfig(
  z.object({
    ...httpServerEnv,
    ...faultEnv,
    ...tracingEnv,
    POD_NAME: envVars.string().optional(),
    SERVICE_VERSION: envVars.string().optional(),
    WORKER_CONCURRENCY: envVars.positiveInt(10_000).default(4),
    QUEUE_CAPACITY: envVars.positiveInt(1_000_000).default(100),
    JOB_COST_MS: envVars.nonNegativeInt(MAX_COST_MS).default(200),
  }),
);
const tracing = await startTracing({ serviceName: "worker", ignorePaths: KIT_PATHS });
const logger = createLogger({ name: "worker", level: config.LOG_LEVEL });
const registry = createRegistry();
const health = new Health();

const queue = new WorkQueue<Job>({
  capacity: config.QUEUE_CAPACITY,
  concurrency: config.WORKER_CONCURRENCY,
  run: runJob,
  registry,
  onSettled: (job) =>
    logger.debug({ job_id: job.id, state: job.state, duration_ms: job.durationMs }, "job finished"),
});

const app = createApp({
  logger,
  registry,
  metrics: createHttpMetrics(registry),
  health,
  maxBodyBytes: config.MAX_BODY_BYTES,
  tracing: tracing.requests,
});
registerFaults(app, { maxDelayMs: config.FAULT_MAX_DELAY });
const info = serviceInfo("worker", config, import.meta.dirname);
addWorkerRoutes(app, {
  info,
  queue,
  defaultCostMs: config.JOB_COST_MS,
});

serveOpenApi(app, workerOpenApi({ version: info.version, maxDelayMs: config.FAULT_MAX_DELAY }));

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
  drainHooks: [{ name: "queue", drain: (deadline) => queue.drain(deadline) }],
  flush: [() => tracing.shutdown()],
  exit: (code) => process.exit(code),
  signals: process,
});
health.markReady();
logger.info(
  {
    url: server.url,
    tracing: tracing.enabled,
    concurrency: queue.concurrency,
    capacity: queue.capacity,
  },
  "listening",
);
