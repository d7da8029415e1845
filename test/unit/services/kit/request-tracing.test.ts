import { trace } from "@opentelemetry/api";
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";
import { createRequestTracer } from "../../../../services/kit/request-tracing.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";
const propagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

/** The real SDK tracer with `sampler`, its finished spans kept in memory. */
function setup(sampler: Sampler) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    sampler,
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = createRequestTracer(provider.getTracer("test"), {
    propagator,
    ignorePaths: new Set(["/healthz"]),
  });
  /** The spans ended so far, once the processor has handed them over. */
  const finished = async () => {
    await provider.forceFlush();
    return exporter.getFinishedSpans();
  };
  return { tracer, finished };
}

const headers = (h: Record<string, string>) => (name: string) => h[name];

describe("createRequestTracer (the real OpenTelemetry SDK, in memory)", () => {
  it("continues the caller's sampled trace, names the span by route and sets its HTTP attributes", async () => {
    const { tracer, finished: ended } = setup(
      new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    );
    const { span, context } = tracer.start(
      "GET",
      headers({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` }),
    );
    expect(trace.getSpan(context)).toBe(span);
    tracer.finish(span, "GET", "/jobs/:id", "/jobs/7", 503);
    const [finished] = await ended();
    expect(finished?.name).toBe("GET /jobs/:id");
    expect(finished?.spanContext().traceId).toBe(TRACE_ID);
    expect(finished?.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(finished?.attributes).toEqual({
      "http.request.method": "GET",
      "http.route": "/jobs/:id",
      "url.path": "/jobs/7",
      "http.response.status_code": 503,
    });
    expect(finished?.status.code).toBe(2); // ERROR, for a 5xx
  });

  it.each([
    ["the caller did not sample it", { traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` }, 0],
    ["no caller, and the root sampler says no", {}, 0],
  ])(
    "records nothing when %s, but the span's context carries the decision on",
    async (_name, h, flags) => {
      const { tracer, finished: ended } = setup(
        new ParentBasedSampler({ root: new AlwaysOffSampler() }),
      );
      const { span } = tracer.start("GET", headers(h));
      expect(span.isRecording()).toBe(false);
      expect(span.spanContext().traceFlags).toBe(flags);
      if ("traceparent" in h) expect(span.spanContext().traceId).toBe(TRACE_ID);
      tracer.finish(span, "GET", "/", "/", 200);
      expect(await ended()).toEqual([]);
    },
  );

  it("starts a new trace without trace context, and a 4xx is not an error", async () => {
    const { tracer, finished: ended } = setup(new AlwaysOnSampler());
    const { span } = tracer.start("POST", headers({}));
    tracer.finish(span, "POST", "/orders", "/orders", 400);
    const [finished] = await ended();
    expect(finished?.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(finished?.spanContext().traceId).not.toBe(TRACE_ID);
    expect(finished?.parentSpanContext).toBeUndefined();
    expect(finished?.status.code).toBe(0);
  });

  it("a malformed traceparent starts a new trace instead of failing the request", async () => {
    const { tracer, finished: ended } = setup(new AlwaysOnSampler());
    const { span } = tracer.start("GET", headers({ traceparent: "not-a-traceparent" }));
    tracer.finish(span, "GET", "/", "/", 200);
    expect((await ended())[0]?.parentSpanContext).toBeUndefined();
  });

  it.each([
    ["/healthz", true],
    ["/", false],
  ])("ignores(%s) is %s", (path, ignored) => {
    expect(setup(new AlwaysOnSampler()).tracer.ignores(path)).toBe(ignored);
  });
});
