import { createRequire, syncBuiltinESMExports } from "node:module";
import { trace } from "@opentelemetry/api";
import { type Env, envVars } from "./config.ts";
import { createRequestTracer, type RequestTracer } from "./request-tracing.ts";

/** The samplers OpenTelemetry's `OTEL_TRACES_SAMPLER` names (the SDK reads the variables). */
export const TRACES_SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

/**
 * The sampling variables, for a service's config schema: the SDK itself only logs a bad value
 * and samples everything, so a typo would silently cost a full trace per request. Unset, the
 * SDK samples `parentbased_always_on`: a request whose caller sampled it (or sent no trace
 * context) is traced, one whose caller did not is not.
 */
export const tracingEnv = {
  OTEL_TRACES_SAMPLER: envVars.oneOf(TRACES_SAMPLERS).optional(),
  /** The ratio of the `*traceidratio` samplers, 0..1 (the SDK's default 1). */
  OTEL_TRACES_SAMPLER_ARG: envVars.ratio().optional(),
};

export interface Tracing {
  /** True when spans are recorded and exported. */
  readonly enabled: boolean;
  /** Server spans for incoming requests: pass it to `createApp`. Absent when disabled. */
  readonly requests?: RequestTracer;
  /** Flushes pending spans and stops the SDK; a no-op when disabled. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  serviceName: string;
  /** Incoming requests to these paths make no span (probes and scrapes). */
  ignorePaths?: ReadonlySet<string>;
  env?: Env;
}

/**
 * Starts OpenTelemetry tracing, exporting over OTLP, but only when `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: otherwise nothing is loaded into the
 * request path and tracing costs nothing. The exporter is configured by the standard `OTEL_*`
 * variables (protocol, headers, sampler, batch delay): spans go out in batches (`OTEL_BSP_*`),
 * sampled as `OTEL_TRACES_SAMPLER` says (see `tracingEnv`).
 *
 * Incoming requests get their server span from `requests`, in the app's own middleware
 * (`createApp({ tracing })`): the HTTP instrumentation's server side built a span's attributes
 * and hooks for every request before the sampler decided, at several times the kit's own cost
 * per request (BENCHMARKS.md). Outgoing `node:http` requests keep the HTTP instrumentation:
 * a client span each, and W3C trace context sent to the callee.
 *
 * The SDK is imported only when enabled. Call it in `main` before the server is created.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const env = options.env ?? process.env;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    return { enabled: false, shutdown: async () => {} };
  }
  const [{ NodeSDK }, { HttpInstrumentation }] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/instrumentation-http"),
  ]);
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? options.serviceName,
    instrumentations: [new HttpInstrumentation({ disableIncomingRequestInstrumentation: true })],
    // Metrics go to Prometheus (prom-client) and logs to stdout; OpenTelemetry carries traces.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  applyToBuiltins();
  return {
    enabled: true,
    requests: createRequestTracer(trace.getTracer("swell-kit"), {
      ignorePaths: options.ignorePaths,
    }),
    shutdown: () => sdk.shutdown(),
  };
}

/**
 * The HTTP instrumentation patches `node:http` when it is *required*; ESM `import` of a
 * builtin does not pass that hook. Requiring it once applies the patch to the module object
 * that ESM imports share, and syncBuiltinESMExports updates the named ESM bindings, so it works
 * whatever was imported before (no `--import` preload or loader hook needed).
 */
function applyToBuiltins(): void {
  const require = createRequire(import.meta.url);
  require("node:http");
  require("node:https");
  syncBuiltinESMExports();
}
