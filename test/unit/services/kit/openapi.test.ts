import type { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { apiOpenApi } from "../../../../services/api/openapi.ts";
import { addApiRoutes } from "../../../../services/api/routes.ts";
import { createApp } from "../../../../services/kit/app.ts";
import { registerFaults } from "../../../../services/kit/faults.ts";
import { Health } from "../../../../services/kit/health.ts";
import { ConcurrencyLimiter } from "../../../../services/kit/limiter.ts";
import { createLogger } from "../../../../services/kit/logger.ts";
import { createHttpMetrics, createRegistry } from "../../../../services/kit/metrics.ts";
import {
  type OpenApiDocument,
  openApiDocument,
  openApiPath,
  serveOpenApi,
} from "../../../../services/kit/openapi.ts";
import { WorkQueue } from "../../../../services/kit/work-queue.ts";
import { workerOpenApi } from "../../../../services/worker/openapi.ts";
import { addWorkerRoutes, runJob } from "../../../../services/worker/routes.ts";
import { sharedTokenAuth } from "../../../../sidecar/controller/auth.ts";
import { parseControllerConfig } from "../../../../sidecar/controller/config.ts";
import { singleInstance } from "../../../../sidecar/controller/leader.ts";
import { memoryBackend } from "../../../../sidecar/controller/memory-backend.ts";
import { controllerOperations } from "../../../../sidecar/controller/openapi.ts";
import { buildController } from "../../../../sidecar/controller/run.ts";

/** `GET /jobs/{id}` for every route an app answers (middleware, registered for ALL, left out). */
function routes(app: { routes: { method: string; path: string }[] }): string[] {
  return [
    ...new Set(
      app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${openApiPath(r.path)}`),
    ),
  ].sort();
}

function documented(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

describe("OpenAPI documents", () => {
  it("writes Hono paths as OpenAPI paths", () => {
    expect(openApiPath("/v1/workloads/:namespace/:name/prescale")).toBe(
      "/v1/workloads/{namespace}/{name}/prescale",
    );
  });

  it("takes request schemas as input (defaults optional) and responses as output", () => {
    const doc = openApiDocument({ title: "t", version: "1" }, [
      {
        method: "post",
        path: "/x/:id",
        operationId: "x",
        summary: "x",
        params: { id: z.string() },
        body: z.object({ n: z.number().default(1) }),
        bearer: true,
        responses: { "200": { description: "ok", schema: z.object({ n: z.number().default(1) }) } },
      },
    ]);
    const op = doc.paths["/x/{id}"]?.post as {
      parameters: unknown;
      requestBody: { content: Record<string, { schema: { required?: string[] } }> };
      responses: Record<string, { content: Record<string, { schema: { required?: string[] } }> }>;
      security: unknown;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(op.parameters).toEqual([
      { name: "id", in: "path", required: true, schema: { type: "string" } },
    ]);
    expect(op.requestBody.content["application/json"]?.schema.required).toBeUndefined();
    expect(op.responses["200"]?.content["application/json"]?.schema.required).toEqual(["n"]);
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(doc.components).toEqual({
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    });
  });

  it("refuses an operation listed twice", () => {
    const op = {
      method: "get",
      path: "/a",
      operationId: "a",
      summary: "a",
      responses: {},
    } as const;
    expect(() => openApiDocument({ title: "t", version: "1" }, [op, op])).toThrow(/twice/);
  });

  it("the controller's document lists exactly the routes its app answers", () => {
    const cfg = parseControllerConfig({ SWELL_TOKEN: "t" });
    if (!cfg.ok) throw new Error(cfg.problems.join("\n"));
    const { app } = buildController({
      config: cfg.value,
      policies: [],
      backend: memoryBackend(),
      leader: singleInstance("test"),
      auth: sharedTokenAuth("t"),
      logger: createLogger({ name: "test", level: "silent" }),
      registry: createRegistry({ defaultMetrics: false }),
    });
    const doc = openApiDocument({ title: "c", version: "1" }, controllerOperations());
    expect(documented(doc)).toEqual(routes(app));
  });

  /** A service's app as its main.ts builds it: the kit, the faults, its routes, its document. */
  function serviceApp(add: (app: Hono) => void, doc: OpenApiDocument) {
    const registry = createRegistry({ defaultMetrics: false });
    const app = createApp({
      logger: createLogger({ name: "test", level: "silent" }),
      registry,
      metrics: createHttpMetrics(registry),
      health: new Health(),
      maxBodyBytes: 1024,
    });
    registerFaults(app, { maxDelayMs: 100 });
    add(app);
    serveOpenApi(app, doc);
    return app;
  }
  const info = { name: "t", version: "1", pod: "p", hostname: "h" };

  it("the worker's document lists exactly the routes its app answers", () => {
    const doc = workerOpenApi({ version: "1", maxDelayMs: 100 });
    const app = serviceApp((a) => {
      const queue = new WorkQueue({
        capacity: 1,
        concurrency: 1,
        run: runJob,
        registry: createRegistry({ defaultMetrics: false }),
      });
      addWorkerRoutes(a, { info, queue, defaultCostMs: 1 });
    }, doc);
    expect(documented(doc)).toEqual(routes(app));
  });

  it("the api's document lists exactly the routes its app answers", () => {
    const doc = apiOpenApi({ version: "1", maxDelayMs: 100 });
    const app = serviceApp(
      (a) =>
        addApiRoutes(a, {
          logger: createLogger({ name: "test", level: "silent" }),
          info,
          limiter: new ConcurrencyLimiter({ concurrency: 1, maxWaiting: 1 }),
          workMs: 0,
          worker: {
            url: new URL("http://127.0.0.1:1"),
            timeoutMs: 1,
            request: async () => ({ status: 503, headers: {}, body: undefined }),
          },
        }),
      doc,
    );
    expect(documented(doc)).toEqual(routes(app));
  });
});
