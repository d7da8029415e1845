import { z } from "zod";
import { faultOperations } from "../kit/faults.ts";
import { infoOperation } from "../kit/info.ts";
import { kitOperations, type OperationSpec, openApiDocument, problem } from "../kit/openapi.ts";
import { jobBody } from "./routes.ts";

/** The worker's HTTP API, with the schema `POST /jobs` validates with (routes.ts). */
export function workerOpenApi(options: { version: string; maxDelayMs: number }) {
  const operations: OperationSpec[] = [
    ...kitOperations(),
    ...faultOperations({ maxDelayMs: options.maxDelayMs }),
    infoOperation(),
    {
      method: "post",
      path: "/jobs",
      operationId: "submitJob",
      summary: "queues a job of costMs simulated work",
      body: jobBody,
      responses: {
        "202": {
          description: "queued",
          schema: z.object({ id: z.string() }),
          headers: { location: { description: "the job's URL", schema: z.string() } },
        },
        "400": problem("the body is not a job"),
        "413": problem("the body is too large"),
        "429": problem("the queue is full", { retryAfter: true }),
        "503": problem("draining: not taking new jobs", { retryAfter: true }),
      },
    },
    {
      method: "get",
      path: "/jobs/:id",
      operationId: "getJob",
      summary: "a job's state",
      params: { id: z.string() },
      responses: {
        "200": {
          description: "the job",
          schema: z.object({
            id: z.string(),
            state: z.enum(["queued", "running", "done", "failed"]),
          }),
        },
        "404": problem("no such job (never queued, or forgotten)"),
      },
    },
  ];
  return openApiDocument(
    { title: "swell worker", version: options.version, description: "queue-backed sample service" },
    operations,
  );
}
