import type { IncomingMessage } from "node:http";
import { context, type Span } from "@opentelemetry/api";
import type { Context, Next } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { matchedRoutes } from "hono/route";
import type { z } from "zod";
import type { Health } from "./health.ts";
import type { Logger } from "./logger.ts";
import type { HttpMetrics, Registry } from "./metrics.ts";
import { HttpProblem, problemResponse, problems } from "./problem.ts";
import type { RequestTracer } from "./request-tracing.ts";

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  metrics: HttpMetrics;
  health: Health;
  /** Largest request body accepted; larger answers 413. */
  maxBodyBytes: number;
  /**
   * Paths whose successful requests are routine and logged at debug, like probes: e.g. a
   * controller's report endpoint, which every pod calls every second. A line per call at info
   * would cost more than the call itself and bury everything else. Failures stay at info.
   */
  routinePaths?: ReadonlySet<string>;
  /**
   * Server spans for incoming requests (`startTracing(…).requests`), named by route
   * (`GET /jobs/:id`), the caller's W3C trace context continued. None when absent.
   */
  tracing?: RequestTracer;
}

/**
 * Probe and scrape endpoints: counted in http_requests_total like any route, but kept out of
 * the demand gauges (in-flight, per-second) and logged at debug, so a scraper polling every
 * second is neither load nor noise.
 */
export const KIT_PATHS: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics"]);

/** Route label for requests that matched no route, to keep label cardinality bounded. */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * A Hono app with what every service needs: access log and HTTP metrics on every request,
 * `GET /healthz`, `GET /readyz`, `GET /metrics`, a body-size limit (413), and problem+json for
 * 404, thrown `HttpProblem`s and anything unexpected (500, no internals). Add the service's
 * routes to the returned app.
 */
export function createApp(deps: AppDeps): Hono {
  const { logger, registry, metrics, health } = deps;
  const app = new Hono();

  const tooLarge = () => problems.payloadTooLarge(deps.maxBodyBytes).toResponse();
  const limitStreamed = bodyLimit({ maxSize: deps.maxBodyBytes, onError: tooLarge });
  const requests = deps.tracing;
  // One middleware for what every request gets (one dispatch step, not two), allocating only
  // the log line's object: on a trivial route the kit's share of a request's CPU is large.
  app.use("*", (c, next) => {
    const path = c.req.path;
    if (requests === undefined || requests.ignores(path)) return serve(c, next, path, undefined);
    // The Node adapter's IncomingMessage: its headers are a plain object, where `c.req.header`
    // would make the adapter build a web Headers for the request.
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const header = incoming
      ? (name: string) => firstValue(incoming.headers[name])
      : (name: string) => c.req.header(name);
    const { span, context: active } = requests.start(c.req.method, header);
    return context.with(active, serve, undefined, c, next, path, span);
  });

  async function serve(c: Context, next: Next, path: string, span: Span | undefined) {
    const start = performance.now();
    const method = c.req.method;
    const isKitPath = KIT_PATHS.has(path);
    if (!isKitPath) metrics.arrived();
    try {
      if (method === "GET" || method === "HEAD") await next();
      else {
        const refused = await limitBody(c, next);
        if (refused) c.res = refused;
      }
    } finally {
      if (!isKitPath) metrics.departed();
      const ms = performance.now() - start;
      const route = routeOf(c);
      const status = c.res.status;
      metrics.finished(method, route, status, ms / 1000);
      if (span) requests?.finish(span, method, route, path, status);
      const routine = isKitPath || (status < 400 && deps.routinePaths?.has(path) === true);
      const level = routine ? "debug" : "info";
      if (logger.isLevelEnabled(level)) {
        logger[level](
          { method, route, path, status, duration_ms: Math.round(ms * 1000) / 1000 },
          "request",
        );
      }
    }
  }

  /**
   * GET and HEAD carry no body (a fetch Request drops it) and skip this. Any other request's
   * declared length is checked from the header alone: Hono's bodyLimit reads `c.req.raw.body`
   * first, which makes the Node adapter build a web Request and stream for every request,
   * several times the CPU of a small POST (BENCHMARKS.md). Only a chunked body, whose size is
   * known once read, goes through it. Returns the 413 when refused.
   */
  async function limitBody(c: Context, next: () => Promise<void>): Promise<Response | undefined> {
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number(length) > deps.maxBodyBytes) return tooLarge();
      await next();
      return undefined;
    }
    // It answers the 413 itself, or passes on what `next` resolves to (not a Response).
    const answer = await limitStreamed(c, next);
    return answer instanceof Response ? answer : undefined;
  }

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) =>
    health.ready
      ? c.json({ status: health.state })
      : problemResponse({
          type: "about:blank",
          title: "Service Unavailable",
          status: 503,
          detail: `not ready: ${health.state}`,
          state: health.state,
        }),
  );
  app.get("/metrics", async (c) => {
    const body = await registry.metrics();
    return c.body(body, 200, { "content-type": registry.contentType });
  });

  const allowed = allowedMethods(app);
  app.notFound((c) => {
    const methods = allowed(c.req.path);
    if (methods.length > 0 && !methods.includes(c.req.method))
      return problems.methodNotAllowed(c.req.method, methods).toResponse();
    return problems.notFound(`no route for ${c.req.method} ${c.req.path}`).toResponse();
  });
  app.onError((err, c) => {
    if (err instanceof HttpProblem) return err.toResponse();
    if (err instanceof HTTPException && err.status < 500) {
      return new HttpProblem(err.status, err.message || "bad request").toResponse();
    }
    logger.error({ err, method: c.req.method, path: c.req.path }, "unhandled error");
    return problems.internal().toResponse();
  });
  return app;
}

/**
 * The methods the app's routes answer a path with (GET brings HEAD, as Hono serves it), so a
 * known path asked with another method gets 405 and `Allow` rather than 404. Compiled from
 * `app.routes` when they change; only requests that matched nothing pay for it.
 */
function allowedMethods(app: Hono): (path: string) => string[] {
  let compiled: { method: string; pattern: RegExp }[] = [];
  let compiledFrom = -1;
  return (path) => {
    if (compiledFrom !== app.routes.length) {
      compiledFrom = app.routes.length;
      compiled = app.routes
        .filter((r) => r.method !== "ALL")
        .map((r) => ({ method: r.method, pattern: routePattern(r.path) }));
    }
    const methods = new Set<string>();
    for (const r of compiled) {
      if (!r.pattern.test(path)) continue;
      methods.add(r.method);
      if (r.method === "GET") methods.add("HEAD");
    }
    return [...methods];
  };
}

/** `/jobs/:id` → a RegExp matching `/jobs/<one segment>`; `*` matches the rest. */
function routePattern(path: string): RegExp {
  const source = path
    .split("/")
    .map((segment) => {
      if (segment.startsWith(":")) return "[^/]+";
      if (segment === "*") return ".*";
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${source}$`);
}

/** A Node header's value; a repeated one (an array) is not a valid trace context header. */
function firstValue(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The route pattern that answered (`/jobs/:id`), not the path, so labels stay few. */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i];
    if (route && route.method !== "ALL") return route.path;
  }
  return UNMATCHED_ROUTE;
}

/**
 * Reads and validates a JSON request body. Throws a 400 `HttpProblem` for an empty body,
 * invalid JSON, or a body the schema refuses; the detail names each offending field
 * (`costMs: Too big: expected number to be <=60000`), and `errors` lists them.
 */
export async function parseJsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
): Promise<z.output<S>> {
  return parseJsonText(await c.req.text(), schema);
}

/** `parseJsonBody` for a body already read (a route served on node:http directly). */
export function parseJsonText<S extends z.ZodType>(text: string, schema: S): z.output<S> {
  if (text.trim() === "") throw problems.badRequest("request body is empty; expected JSON");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw problems.badRequest("request body is not valid JSON");
  }
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
  throw problems.badRequest(errors.map((e) => `${e.field}: ${e.message}`).join("; "), { errors });
}
