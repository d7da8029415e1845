import { setTimeout as sleep } from "node:timers/promises";
import type { Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import { parseJsonBody } from "../kit/app.ts";
import { infoHandler, type ServiceInfo } from "../kit/info.ts";
import type { ConcurrencyLimiter } from "../kit/limiter.ts";
import type { Logger } from "../kit/logger.ts";
import { type RequestJson, submitJob } from "./worker-client.ts";

export interface ApiRoutesDeps {
  logger: Logger;
  info: ServiceInfo;
  /** The replica's bounded capacity: requests at once, and how many more may wait. */
  limiter: ConcurrencyLimiter;
  /** Simulated work per request, once it has a slot. */
  workMs: number;
  worker: { url: URL; timeoutMs: number; request: RequestJson };
}

export const orderBody = z.object({
  item: z.string().min(1).max(200),
  quantity: z.number().int().min(1).max(10_000),
  /** Simulated work for the worker's job; the worker's JOB_COST_MS when absent. */
  costMs: z.number().min(0).max(60_000).optional(),
});

/**
 * The api's own routes: `GET /` (who answered) and `POST /orders`, which validates an order and
 * submits a job for it to the worker. Both pass through the replica's capacity, so load above it
 * builds latency and more replicas help, even on one machine.
 */
export function addApiRoutes(app: Hono, deps: ApiRoutesDeps): void {
  const { logger, limiter, workMs, worker } = deps;
  const capacity: MiddlewareHandler = (_c, next) =>
    limiter.run(async () => {
      await sleep(workMs);
      await next();
    });

  app.get("/", capacity, infoHandler(deps.info));
  app.post("/orders", capacity, async (c) => {
    const order = await parseJsonBody(c, orderBody);
    const job = await submitJob(
      worker.request,
      worker.url,
      { costMs: order.costMs },
      AbortSignal.timeout(worker.timeoutMs),
    );
    logger.info({ job_id: job.id, item: order.item, quantity: order.quantity }, "order accepted");
    return c.json({ jobId: job.id, item: order.item, quantity: order.quantity }, 202);
  });
}
