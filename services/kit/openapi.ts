import type { Hono } from "hono";
import { z } from "zod";
import { PROBLEM_CONTENT_TYPE } from "./problem.ts";

/**
 * OpenAPI 3.1 documents built from the zod schemas the handlers validate with. zod 4 writes
 * JSON Schema 2020-12, which OpenAPI 3.1 takes as is, so a route keeps its plain Hono handler
 * and its schema stays in one place; the program lists its operations next to its routes, and
 * a test checks that the list and the app's routes are the same set.
 */

export interface ResponseSpec {
  description: string;
  /** The body's schema (validated by the fuzz tests); none: the response has no body. */
  schema?: z.ZodType;
  /** Default `application/json`; use `problem()` for errors. */
  contentType?: string;
  /** Headers the response carries, by lower-case name. */
  headers?: Record<string, { description: string; schema: z.ZodType }>;
}

export interface OperationSpec {
  method: "get" | "post" | "put" | "delete" | "patch";
  /** Hono's path (`/jobs/:id`); written as `/jobs/{id}` in the document. */
  path: string;
  operationId: string;
  summary: string;
  /** The path parameters' schemas, by name. */
  params?: Record<string, z.ZodType>;
  /** The query parameters' schemas, by name; optional ones (or with a default) not required. */
  query?: Record<string, z.ZodType>;
  /** The JSON request body; required when given. */
  body?: z.ZodType;
  /** Needs `Authorization: Bearer …`. */
  bearer?: boolean;
  /** By status code, or a range such as `5XX`. */
  responses: Record<string, ResponseSpec>;
}

export interface DocumentInfo {
  title: string;
  version: string;
  description?: string;
}

/** RFC 9457 problem details as every error of the kit carries them (extensions allowed). */
export const ProblemSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
});

const RetryAfter = {
  description: "seconds to wait before trying again",
  schema: z.string().regex(/^\d+$/),
};

/** A problem+json response; `retryAfter` adds the Retry-After header it carries. */
export function problem(description: string, options: { retryAfter?: boolean } = {}) {
  return {
    description,
    schema: ProblemSchema,
    contentType: PROBLEM_CONTENT_TYPE,
    ...(options.retryAfter ? { headers: { "retry-after": RetryAfter } } : {}),
  } satisfies ResponseSpec;
}

/** `/jobs/:id` → `/jobs/{id}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/** JSON Schema of a request (input) or response (output) schema, without its `$schema` line. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return rest;
}

export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
};

export function openApiDocument(info: DocumentInfo, operations: OperationSpec[]): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const path = openApiPath(op.path);
    const item = paths[path] ?? {};
    paths[path] = item;
    if (item[op.method]) throw new Error(`OpenAPI: ${op.method} ${path} listed twice`);
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema
          ? {
              content: {
                [r.contentType ?? "application/json"]: { schema: jsonSchema(r.schema, "output") },
              },
            }
          : {}),
        ...(r.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(r.headers).map(([name, h]) => [
                  name,
                  {
                    description: h.description,
                    required: true,
                    schema: jsonSchema(h.schema, "output"),
                  },
                ]),
              ),
            }
          : {}),
      };
    }
    item[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.params || op.query
        ? {
            parameters: [
              ...Object.entries(op.params ?? {}).map(([name, schema]) => ({
                name,
                in: "path",
                required: true,
                schema: jsonSchema(schema, "input"),
              })),
              ...Object.entries(op.query ?? {}).map(([name, schema]) => ({
                name,
                in: "query",
                required: !schema.safeParse(undefined).success,
                schema: jsonSchema(schema, "input"),
              })),
            ],
          }
        : {}),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: jsonSchema(op.body, "input") } },
            },
          }
        : {}),
      ...(op.bearer ? { security: [{ bearer: [] }] } : {}),
      responses,
    };
  }
  const bearer = operations.some((op) => op.bearer);
  return {
    openapi: "3.1.0",
    info,
    paths,
    ...(bearer
      ? { components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } } }
      : {}),
  };
}

/** Serves the document at `GET /openapi.json`. */
export function serveOpenApi(app: Hono, document: OpenApiDocument): void {
  const body = JSON.stringify(document);
  app.get(OPENAPI_PATH, (c) => c.body(body, 200, { "content-type": "application/json" }));
}

export const OPENAPI_PATH = "/openapi.json";

/** The operations every kit app has: probes, metrics and the document itself. */
export function kitOperations(): OperationSpec[] {
  return [
    {
      method: "get",
      path: "/healthz",
      operationId: "healthz",
      summary: "liveness: 200 while the process can answer",
      responses: { "200": { description: "alive", schema: z.object({ status: z.literal("ok") }) } },
    },
    {
      method: "get",
      path: "/readyz",
      operationId: "readyz",
      summary: "readiness: 200 when ready, 503 while starting and while draining",
      responses: {
        "200": { description: "ready", schema: z.object({ status: z.string() }) },
        "503": problem("starting or draining"),
      },
    },
    {
      method: "get",
      path: "/metrics",
      operationId: "metrics",
      summary: "Prometheus text exposition",
      responses: {
        "200": { description: "metrics", schema: z.string(), contentType: "text/plain" },
      },
    },
    {
      method: "get",
      path: OPENAPI_PATH,
      operationId: "openapi",
      summary: "this OpenAPI 3.1 document",
      responses: { "200": { description: "the document", schema: z.looseObject({}) } },
    },
  ];
}
