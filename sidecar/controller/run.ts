import type { Hono } from "hono";
import { createApp } from "../../services/kit/app.ts";
import { Health } from "../../services/kit/health.ts";
import { packageVersion } from "../../services/kit/info.ts";
import type { Logger } from "../../services/kit/logger.ts";
import { createHttpMetrics, type HttpMetrics, type Registry } from "../../services/kit/metrics.ts";
import { serveOpenApi } from "../../services/kit/openapi.ts";
import { listen, type RunningServer } from "../../services/kit/server.ts";
import type { ScalingPolicy } from "../protocol/policy.ts";
import { REPORTS_PATH, type Report } from "../protocol/report.ts";
import { registerControllerApi, type TakeReport } from "./api.ts";
import type { Authenticator, Principal } from "./auth.ts";
import type { ScaleBackend } from "./backend.ts";
import type { ControllerConfig } from "./config.ts";
import { Controller } from "./controller.ts";
import type { LeaderElector } from "./leader.ts";
import { createControllerMetrics } from "./metrics.ts";
import { controllerOpenApi } from "./openapi.ts";
import { RateLimiter } from "./rate-limit.ts";
import { type RawRoute, reportRoute } from "./report-route.ts";
import { LiveFeed } from "./ui/feed.ts";
import { registerLivePage } from "./ui/routes.ts";

// The steps a controller program takes, in order: createController, createControllerApp,
// addControllerApi, serveController. main.ts calls them one by one, with the Kubernetes parts
// between them; buildController and runController chain them for programs that add nothing.

export interface CoreDeps {
  config: Pick<ControllerConfig, "podTtlMs" | "tickMs" | "reportMaxAgeMs"> &
    Partial<Pick<ControllerConfig, "observedWorkloads">>;
  policies: ScalingPolicy[];
  backend: ScaleBackend;
  leader: LeaderElector;
  logger: Logger;
  registry: Registry;
  clock?: () => number;
}

/** The controller's core, deciding through the policy and applying through the backend. */
export function createController(deps: CoreDeps): Controller {
  const { config } = deps;
  return new Controller(
    deps.policies,
    {
      backend: deps.backend,
      leader: deps.leader,
      metrics: createControllerMetrics(deps.registry),
      clock: deps.clock ?? Date.now,
      log: deps.logger,
    },
    {
      podTtlMs: config.podTtlMs,
      tickMs: config.tickMs,
      maxAgeMs: config.reportMaxAgeMs,
      maxObservedWorkloads: config.observedWorkloads ?? 0,
    },
  );
}

/** The kit's app for the controller (probes, metrics, problems), before the API's routes. */
export function createControllerApp(deps: {
  config: Pick<ControllerConfig, "maxBodyBytes">;
  logger: Logger;
  registry: Registry;
}): { app: Hono; health: Health; httpMetrics: HttpMetrics } {
  const health = new Health();
  const httpMetrics = createHttpMetrics(deps.registry);
  const app = createApp({
    logger: deps.logger,
    registry: deps.registry,
    metrics: httpMetrics,
    health,
    maxBodyBytes: deps.config.maxBodyBytes,
    // Every pod reports every second: an accepted report is routine; a refused one is logged.
    routinePaths: new Set([REPORTS_PATH]),
  });
  return { app, health, httpMetrics };
}

export interface ApiWiring {
  config: Pick<ControllerConfig, "reportsPerPodPerSecond">;
  controller: Controller;
  auth: Authenticator;
  clock?: () => number;
  /** For a pod principal: may this pod report for that workload? (Kubernetes mode.) */
  mayReport?: (principal: Principal, report: Report) => Promise<boolean>;
}

/**
 * Adds the controller's API to the app, with its per-pod rate limit, the live page and the
 * API's OpenAPI document. Returns how a report is taken, for `reportsRoute`.
 */
export function addControllerApi(app: Hono, deps: ApiWiring): TakeReport {
  const perPod = deps.config.reportsPerPodPerSecond;
  const takeReport = registerControllerApi(app, {
    controller: deps.controller,
    auth: deps.auth,
    limiter: new RateLimiter(perPod, 2 * perPod),
    clock: deps.clock ?? Date.now,
    ...(deps.mayReport ? { mayReport: deps.mayReport } : {}),
  });
  // The live page at / and its event stream, following this controller's decisions.
  registerLivePage(app, {
    controller: deps.controller,
    feed: new LiveFeed().follow(deps.controller),
    maxStreams: 64,
    keepAliveMs: 15_000,
    maxQueued: 1_000,
  });
  serveOpenApi(app, controllerOpenApi(packageVersion(import.meta.dirname)));
  return takeReport;
}

/**
 * `POST /v1/reports` on node:http ahead of the app (report-route.ts), taking reports as the
 * app's route does, while `applies()`: always for a lone controller; in a cluster only while
 * this one leads, since a follower's app forwards reports to the leader.
 */
export function reportsRoute(deps: {
  config: Pick<ControllerConfig, "maxBodyBytes">;
  take: TakeReport;
  httpMetrics: HttpMetrics;
  logger: Logger;
  applies?: () => boolean;
}): RawRoute {
  return reportRoute({
    take: deps.take,
    metrics: deps.httpMetrics,
    logger: deps.logger,
    maxBodyBytes: deps.config.maxBodyBytes,
    applies: deps.applies ?? (() => true),
  });
}

export interface RunningController {
  controller: Controller;
  server: RunningServer;
  health: Health;
  /** Stops deciding and closes the server (in-flight requests finish). */
  stop(): Promise<void>;
}

/** Serves the app, starts deciding, and turns ready. */
export async function serveController(deps: {
  config: Pick<ControllerConfig, "host" | "port"> & Partial<Pick<ControllerConfig, "limits">>;
  controller: Controller;
  app: Hono;
  health: Health;
  logger: Logger;
  /** For the start-up line. */
  backendName: string;
  /** The reports' node:http route (`reportsRoute`); without it the app's route takes them. */
  reports?: RawRoute;
}): Promise<RunningController> {
  const { controller, health } = deps;
  const { host, port, limits } = deps.config;
  const server = await listen(deps.app, {
    host,
    port,
    ...(limits ? { limits } : {}),
    ...(deps.reports ? { before: deps.reports } : {}),
  });
  const ticking = new AbortController();
  controller.start(ticking.signal);
  health.markReady();
  deps.logger.info(
    {
      url: server.url,
      backend: deps.backendName,
      workloads: controller.workloads().map((w) => w.key),
      identity: controller.leader.identity,
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

export type BuildControllerDeps = CoreDeps &
  Omit<ApiWiring, "controller" | "config"> & {
    config: CoreDeps["config"] & Pick<ControllerConfig, "maxBodyBytes" | "reportsPerPodPerSecond">;
  };

/** The three building steps at once, for programs with nothing to add between them. */
export function buildController(deps: BuildControllerDeps): {
  controller: Controller;
  app: Hono;
  health: Health;
  reports: RawRoute;
} {
  const controller = createController(deps);
  const { app, health, httpMetrics } = createControllerApp(deps);
  const take = addControllerApi(app, { ...deps, controller });
  const reports = reportsRoute({ config: deps.config, take, httpMetrics, logger: deps.logger });
  return { controller, app, health, reports };
}

/** `buildController`, then `serveController`: the local stack's controller. */
export async function runController(
  deps: BuildControllerDeps & {
    config: Pick<ControllerConfig, "host" | "port"> & Partial<Pick<ControllerConfig, "limits">>;
  },
): Promise<RunningController> {
  const built = buildController(deps);
  return serveController({
    ...built,
    config: deps.config,
    logger: deps.logger,
    backendName: deps.backend.name,
  });
}
