import { z } from "zod";
import { faultOperations } from "../kit/faults.ts";
import { infoOperation } from "../kit/info.ts";
import { kitOperations, type OperationSpec, openApiDocument, problem } from "../kit/openapi.ts";
import { orderBody } from "./routes.ts";

/** The api's HTTP API, with the schema `POST /orders` validates with (routes.ts). */
export function apiOpenApi(options: { version: string; maxDelayMs: number }) {
  const busy = problem("too many requests waiting for this replica", { retryAfter: true });
  const operations: OperationSpec[] = [
    ...kitOperations(),
    ...faultOperations({ maxDelayMs: options.maxDelayMs }),
    infoOperation({ "503": busy }),
    {
      method: "post",
      path: "/orders",
      operationId: "createOrder",
      summary: "validates an order and submits a job for it to the worker",
      body: orderBody,
      responses: {
        "202": {
          description: "accepted; the worker queued its job",
          schema: z.object({ jobId: z.string(), item: z.string(), quantity: z.number().int() }),
        },
        "400": problem("the body is not an order"),
        "413": problem("the body is too large"),
        "429": problem("the worker's queue is full", { retryAfter: true }),
        "502": problem("the worker answered something unexpected"),
        "503": problem("this replica is full, or the worker is unreachable, slow or draining", {
          retryAfter: true,
        }),
      },
    },
  ];
  return openApiDocument(
    { title: "swell api", version: options.version, description: "HTTP sample service" },
    operations,
  );
}
