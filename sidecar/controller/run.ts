import type { Hono } from "hono";
import { createApp } from "../../services/kit/app.ts";
import { serverLimits } from "../../services/kit/config.ts";
import { Health } from "../../services/kit/health.ts";
import { packageVersion } from "../../services/kit/info.ts";
import type { Logger } from "../../services/kit/logger.ts";
import { createHttpMetrics, type Registry } from "../../services/kit/metrics.ts";
import { serveOpenApi } from "../../services/kit/openapi.ts";
import { listen, type RunningServer } from "../../services/kit/server.ts";
import type { ScalingPolicy } from "../protocol/policy.ts";
import { REPORTS_PATH, type Report } from "../protocol/report.ts";
import { registerControllerApi } from "./api.ts";
import type { Authenticator, Principal } from "./auth.ts";
import type { ScaleBackend } from "./backend.ts";
import type { ControllerConfig } from "./config.ts";
import { Controller } from "./controller.ts";
import type { LeaderElector } from "./leader.ts";
import { createControllerMetrics } from "./metrics.ts";
import { controllerOpenApi } from "./openapi.ts";
import { RateLimiter } from "./rate-limit.ts";

export interface RunControllerDeps {
  config: ControllerConfig;
  policies: ScalingPolicy[];
  backend: ScaleBackend;
  leader: LeaderElector;
  auth: Authenticator;
  logger: Logger;
  registry: Registry;
  clock?: () => number;
  /** For a pod principal: may this pod report for that workload? (Kubernetes mode.) */
  mayReport?: (principal: Principal, report: Report) => Promise<boolean>;
  /** Adds to the app before the API's routes (e.g. a middleware that forwards to the leader). */
  beforeApi?: (app: Hono, controller: Controller) => void;
}

export interface RunningController {
  controller: Controller;
  server: RunningServer;
  health: Health;
  /** Stops deciding and closes the server (in-flight requests finish). */
  stop(): Promise<void>;
}

/** The controller and its HTTP app, built from explicit parts; nothing listens or ticks yet. */
export function buildController(deps: RunControllerDeps): {
  controller: Controller;
  app: Hono;
  health: Health;
} {
  const { config, logger, registry } = deps;
  const clock = deps.clock ?? Date.now;
  const health = new Health();
  const controller = new Controller(
    deps.policies,
    {
      backend: deps.backend,
      leader: deps.leader,
      metrics: createControllerMetrics(registry),
      clock,
      log: logger,
    },
    {
      podTtlMs: config.SWELL_POD_TTL,
      tickMs: config.SWELL_TICK,
      maxAgeMs: config.SWELL_REPORT_MAX_AGE,
    },
  );
  const app = createApp({
    logger,
    registry,
    metrics: createHttpMetrics(registry),
    health,
    maxBodyBytes: config.MAX_BODY_BYTES,
    // Every pod reports every second: an accepted report is routine; a refused one is logged.
    routinePaths: new Set([REPORTS_PATH]),
  });
  const perPod = config.SWELL_REPORTS_PER_POD_PER_SECOND;
  const limiter = new RateLimiter(perPod, 2 * perPod);
  deps.beforeApi?.(app, controller);
  registerControllerApi(app, {
    controller,
    auth: deps.auth,
    limiter,
    clock,
    ...(deps.mayReport ? { mayReport: deps.mayReport } : {}),
  });
  serveOpenApi(app, controllerOpenApi(packageVersion(import.meta.dirname)));
  return { controller, app, health };
}

/** Builds the controller and its HTTP API, then starts serving and deciding. */
export async function runController(deps: RunControllerDeps): Promise<RunningController> {
  const { controller, app, health } = buildController(deps);
  const { config, logger } = deps;
  const server = await listen(app, {
    host: config.HOST,
    port: config.PORT,
    limits: serverLimits(config),
  });
  const ticking = new AbortController();
  controller.start(ticking.signal);
  health.markReady();
  logger.info(
    {
      url: server.url,
      backend: deps.backend.name,
      workloads: controller.workloads().map((w) => w.key),
      identity: deps.leader.identity,
    },
    "controller listening",
  );
  return {
    controller,
    server,
    health,
    async stop() {
      ticking.abort();
      health.markDraining();
      await server.close();
    },
  };
}
