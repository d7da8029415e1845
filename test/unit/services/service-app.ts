/**
 * A sample service's app in-process, built as its main.ts builds it (the kit's app and faults),
 * for route tests with `app.request()`: no process, no port. Log lines are kept for the tests.
 */
import type { Hono } from "hono";
import { createApp } from "../../../services/kit/app.ts";
import { registerFaults } from "../../../services/kit/faults.ts";
import { Health } from "../../../services/kit/health.ts";
import { type ServiceInfo, serviceInfo } from "../../../services/kit/info.ts";
import { createLogger, type Logger } from "../../../services/kit/logger.ts";
import { createHttpMetrics, createRegistry, type Registry } from "../../../services/kit/metrics.ts";

export interface ServiceApp {
  app: Hono;
  registry: Registry;
  logger: Logger;
  info: ServiceInfo;
  lines: Record<string, unknown>[];
  /** The app's /metrics text. */
  metrics(): Promise<string>;
}

export function serviceApp(
  name: string,
  options: { maxBodyBytes?: number; maxDelayMs?: number } = {},
): ServiceApp {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    name,
    level: "info",
    destination: { write: (s: string) => lines.push(JSON.parse(s)) },
  });
  const registry = createRegistry();
  const health = new Health();
  const app = createApp({
    logger,
    registry,
    metrics: createHttpMetrics(registry),
    health,
    maxBodyBytes: options.maxBodyBytes ?? 1_048_576,
  });
  registerFaults(app, { maxDelayMs: options.maxDelayMs ?? 30_000 });
  health.markReady();
  return {
    app,
    registry,
    logger,
    info: serviceInfo(name, {}, import.meta.dirname),
    lines,
    metrics: async () => (await app.request("/metrics")).text(),
  };
}

/** A JSON POST through the app, as a client would send it. */
export function postJson(app: Hono, path: string, body: string): Promise<Response> {
  return Promise.resolve(
    app.request(path, { method: "POST", body, headers: { "content-type": "application/json" } }),
  );
}
