import {
  type Context,
  defaultTextMapGetter,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
  trace,
} from "@opentelemetry/api";

/** One incoming request's server span, and the context to serve it in. */
export interface RequestSpan {
  span: Span;
  /** The caller's context with `span` active: run the handler in it. */
  context: Context;
}

/**
 * Server spans for the app's incoming requests, made in the kit's own middleware rather than by
 * instrumenting `node:http`: the sampler is asked first, with nothing but the method and the
 * caller's context, and a request it drops gets only a non-recording span (ids, no attributes,
 * nothing exported) that still carries the decision on to the services it calls.
 */
export interface RequestTracer {
  /** True for paths that get no span at all (probes and scrapes). */
  ignores(path: string): boolean;
  /** Starts the span; `header` reads a request header (lower-case name). */
  start(method: string, header: (name: string) => string | undefined): RequestSpan;
  /** Names the span by route (`GET /jobs/:id`), sets its HTTP attributes and ends it. */
  finish(span: Span, method: string, route: string, path: string, status: number): void;
}

export interface RequestTracerOptions {
  /** Incoming requests to these paths make no span (probes and scrapes). */
  ignorePaths?: ReadonlySet<string>;
  /** Reads the caller's context from the headers: the SDK's global one (W3C by default). */
  propagator?: Pick<TextMapPropagator, "extract" | "fields">;
}

export function createRequestTracer(
  tracer: Tracer,
  options: RequestTracerOptions = {},
): RequestTracer {
  const ignorePaths = options.ignorePaths ?? new Set<string>();
  const propagator = options.propagator ?? propagation;
  // The headers the configured propagators read (traceparent, tracestate, baggage by default,
  // others under OTEL_PROPAGATORS): a request with none of them starts a new trace unparsed.
  let fields: string[] | undefined;
  const parentOf = (header: (name: string) => string | undefined): Context => {
    fields ??= propagator.fields().map((f) => f.toLowerCase());
    let carrier: Record<string, string> | undefined;
    for (const field of fields) {
      const value = header(field);
      if (value === undefined) continue;
      carrier ??= {};
      carrier[field] = value;
    }
    return carrier ? propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter) : ROOT_CONTEXT;
  };
  return {
    ignores: (path) => ignorePaths.has(path),
    start(method, header) {
      const parent = parentOf(header);
      // No attributes up front: a sampler that drops the request must cost nothing more.
      const span = tracer.startSpan(method, { kind: SpanKind.SERVER }, parent);
      return { span, context: trace.setSpan(parent, span) };
    },
    finish(span, method, route, path, status) {
      if (span.isRecording()) {
        span.updateName(`${method} ${route}`);
        span.setAttributes({
          "http.request.method": method,
          "http.route": route,
          "url.path": path,
          "http.response.status_code": status,
        });
        // Server spans are errors for 5xx only; a 4xx is the client's mistake (OTel semconv).
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}
