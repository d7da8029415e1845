import { setTimeout as sleep } from "node:timers/promises";
import type { Hono } from "hono";
import { z } from "zod";
import { parseJsonBody } from "../kit/app.ts";
import { infoHandler, type ServiceInfo } from "../kit/info.ts";
import { problems } from "../kit/problem.ts";
import type { WorkQueue } from "../kit/work-queue.ts";

/** The longest simulated job, in a request's costMs and in JOB_COST_MS. */
export const MAX_COST_MS = 60_000;

/** A job's payload: simulated work, a timer of costMs. */
export interface Job {
  costMs: number;
}

/** Does one job: waits its cost, or stops when a drain deadline aborts it. */
export const runJob = (job: Job, signal: AbortSignal): Promise<void> =>
  sleep(job.costMs, undefined, { signal });

export interface WorkerRoutesDeps {
  info: ServiceInfo;
  queue: WorkQueue<Job>;
  /** A job's cost when the request names none (JOB_COST_MS). */
  defaultCostMs: number;
}

export const jobBody = z.object({ costMs: z.number().min(0).max(MAX_COST_MS).optional() });

/**
 * The worker's own routes: `GET /` (who answered), `POST /jobs` queues a job (429 with
 * Retry-After when the queue is full, 503 once draining) and `GET /jobs/{id}` tells its state.
 */
export function addWorkerRoutes(app: Hono, deps: WorkerRoutesDeps): void {
  const { queue } = deps;
  app.get("/", infoHandler(deps.info));
  app.post("/jobs", async (c) => {
    const body = await parseJsonBody(c, jobBody);
    const result = queue.submit({ costMs: body.costMs ?? deps.defaultCostMs });
    if (result.ok) return c.json({ id: result.id }, 202, { location: `/jobs/${result.id}` });
    if (result.reason === "full") {
      throw problems.tooManyRequests(
        `the queue is full (${queue.capacity} jobs waiting)`,
        queue.retryAfterSeconds(),
      );
    }
    throw problems.serviceUnavailable("shutting down; not taking new jobs", 1);
  });
  app.get("/jobs/:id", (c) => {
    const job = queue.get(c.req.param("id"));
    if (!job) throw problems.notFound(`no job ${c.req.param("id")}`);
    return c.json(job);
  });
}
