// The baseline for the service-overhead benchmark: the api's `GET /` route (same handler, same
// capacity limiter and simulated work) on a bare Hono app, with none of the kit's access log,
// metrics, tracing, body limit or problem handling.
import { setTimeout as sleep } from "node:timers/promises";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { infoHandler, serviceInfo } from "../../services/kit/info.ts";
import { ConcurrencyLimiter } from "../../services/kit/limiter.ts";

const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const n = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`config: ${name}: expected a non-negative integer, got ${raw}\n`);
    process.exit(2);
  }
  return n;
};
const workMs = env("API_WORK_MS", 20);
const limiter = new ConcurrencyLimiter({
  concurrency: env("API_CONCURRENCY", 16),
  maxWaiting: env("API_MAX_WAITING", 1000),
});

const app = new Hono();
app.get("/healthz", (c) => c.json({ status: "ok" }));
app.get(
  "/",
  (_c, next) =>
    limiter.run(async () => {
      await sleep(workMs);
      await next();
    }),
  infoHandler(serviceInfo("api", process.env, import.meta.dirname)),
);
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: env("PORT", 8080) });
