// The baseline for the service-overhead benchmark: the api's own routes (the same `GET /`,
// capacity limiter and simulated work) on a bare Hono app, with none of the kit's access log,
// metrics, tracing, body limit or problem handling.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { z } from "zod";
import { addApiRoutes } from "../../services/api/routes.ts";
import { envVars, loadConfig } from "../../services/kit/config.ts";
import { requestJson } from "../../services/kit/http-client.ts";
import { serviceInfo } from "../../services/kit/info.ts";
import { ConcurrencyLimiter } from "../../services/kit/limiter.ts";
import { createLogger } from "../../services/kit/logger.ts";

const config = loadConfig(
  z.object({
    PORT: envVars.port().default(8080),
    API_WORK_MS: envVars.nonNegativeInt().default(20),
    API_CONCURRENCY: envVars.positiveInt().default(16),
    API_MAX_WAITING: envVars.nonNegativeInt().default(1000),
  }),
);
const app = new Hono();
app.get("/healthz", (c) => c.json({ status: "ok" }));
addApiRoutes(app, {
  // The benchmark calls only `GET /`, which logs nothing and calls no worker.
  logger: createLogger({ name: "bare-api", level: "silent" }),
  info: serviceInfo("api", process.env, import.meta.dirname),
  limiter: new ConcurrencyLimiter({
    concurrency: config.API_CONCURRENCY,
    maxWaiting: config.API_MAX_WAITING,
  }),
  workMs: config.API_WORK_MS,
  worker: { url: new URL("http://127.0.0.1:1"), timeoutMs: 1000, request: requestJson },
});
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: config.PORT });
