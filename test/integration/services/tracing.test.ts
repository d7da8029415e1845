import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, type ServiceProcess, startService } from "./process.ts";

interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

/** A minimal OTLP/HTTP trace receiver (JSON encoding): a real server the exporters post to. */
async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") {
        const payload = JSON.parse(body) as OtlpTraces;
        for (const rs of payload.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a) => a.key === "service.name")?.value
            ?.stringValue;
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                service: service ?? "",
                name: s.name,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? "",
              });
            }
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { spans, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

interface OtlpTraces {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value?: { stringValue?: string } }> };
    scopeSpans?: Array<{
      spans?: Array<{ name: string; traceId: string; spanId: string; parentSpanId?: string }>;
    }>;
  }>;
}

describe("tracing across api → worker (real processes, OTLP receiver on loopback)", () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let worker: ServiceProcess;
  let api: ServiceProcess;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    };
    worker = await startService("worker", { ...otel, JOB_COST_MS: "1" });
    api = await startService("api", { ...otel, WORKER_URL: worker.url });
  });
  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
    receiver?.server.close();
  });

  it("one POST /orders is one trace with spans from both services, and its log lines carry it", async () => {
    expect(api.lines.find((l) => l.msg === "listening")?.tracing).toBe(true);
    const res = await fetch(`${api.url}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"item":"book","quantity":1}',
    });
    expect(res.status).toBe(202);
    const { jobId } = await json(res);

    // The api's server span for the request, named by route.
    const until = Date.now() + 15_000;
    let apiSpan: ReceivedSpan | undefined;
    let workerSpan: ReceivedSpan | undefined;
    while (Date.now() < until && !(apiSpan && workerSpan)) {
      apiSpan = receiver.spans.find((s) => s.service === "api" && s.name === "POST /orders");
      workerSpan = apiSpan
        ? receiver.spans.find((s) => s.service === "worker" && s.traceId === apiSpan?.traceId)
        : undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(apiSpan, "the api's POST /orders span reached the receiver").toBeDefined();
    expect(workerSpan, "a worker span with the same trace id").toBeDefined();
    const traceId = apiSpan?.traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(workerSpan?.name).toBe("POST /jobs");
    // The worker's span hangs under the api's client span for the call.
    const clientSpan = receiver.spans.find((s) => s.spanId === workerSpan?.parentSpanId);
    expect(clientSpan).toMatchObject({ service: "api", traceId, parentSpanId: apiSpan?.spanId });

    // Logs join traces on trace_id: the api's lines for this request, and the worker's.
    const apiLines = api.lines.filter(
      (l) => (l.msg === "request" && l.route === "/orders") || l.job_id === jobId,
    );
    expect(apiLines.map((l) => l.msg).sort()).toEqual(["order accepted", "request"]);
    for (const line of apiLines) expect(line.trace_id).toBe(traceId);
    const workerAccess = worker.lines.find((l) => l.msg === "request" && l.route === "/jobs");
    expect(workerAccess?.trace_id).toBe(traceId);
  });

  it("probes and scrapes make no spans", async () => {
    await fetch(`${api.url}/healthz`);
    await fetch(`${api.url}/metrics`);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.spans.filter((s) => /healthz|metrics/.test(s.name))).toEqual([]);
    expect(receiver.spans.filter((s) => s.service === "api" && s.name === "GET")).toEqual([]);
  });
});

describe("trace sampling (OTEL_TRACES_SAMPLER, real process, OTLP receiver on loopback)", () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let api: ServiceProcess;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    api = await startService("api", {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0",
      API_WORK_MS: "0",
    });
  });
  afterAll(async () => {
    await api?.stop();
    receiver?.server.close();
  });

  it("parent-based: a request without trace context follows the ratio (0: no span), one whose caller sampled it is traced in the caller's trace", async () => {
    for (let i = 0; i < 20; i++) await (await fetch(`${api.url}/`)).arrayBuffer();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const sampled = `00-${traceId}-00f067aa0ba902b7-01`;
    const notSampled = `00-${"1".repeat(32)}-00f067aa0ba902b7-00`;
    await (await fetch(`${api.url}/`, { headers: { traceparent: notSampled } })).arrayBuffer();
    await (await fetch(`${api.url}/`, { headers: { traceparent: sampled } })).arrayBuffer();
    const until = Date.now() + 15_000;
    while (Date.now() < until && !receiver.spans.some((s) => s.traceId === traceId)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300)); // any stray span would be in the same batch
    expect(receiver.spans.map((s) => [s.name, s.traceId])).toEqual([["GET /", traceId]]);
  });
});

describe("the api's sampling decision reaches the worker (real processes, OTLP receiver on loopback)", () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let worker: ServiceProcess;
  let api: ServiceProcess;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    };
    // The worker keeps the default (parent-based, always on as a root): only what the api
    // sends it decides whether the worker records the job's span.
    worker = await startService("worker", { ...otel, JOB_COST_MS: "1" });
    api = await startService("api", {
      ...otel,
      WORKER_URL: worker.url,
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0",
    });
  });
  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
    receiver?.server.close();
  });

  const order = (headers: Record<string, string> = {}) =>
    fetch(`${api.url}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: '{"item":"book","quantity":1}',
    });

  it("an order the api does not sample makes no span in either service; one its caller sampled is traced through both", async () => {
    for (let i = 0; i < 5; i++) expect((await order()).status).toBe(202);
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const res = await order({ traceparent: `00-${traceId}-b7ad6b7169203331-01` });
    expect(res.status).toBe(202);
    const until = Date.now() + 15_000;
    while (Date.now() < until && !receiver.spans.some((s) => s.service === "worker")) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300)); // any stray span would be in the same batch
    const byService = (service: string) =>
      receiver.spans.filter((s) => s.service === service).map((s) => [s.name, s.traceId]);
    expect(byService("worker")).toEqual([["POST /jobs", traceId]]);
    // The api's server span and its client span for the call, both in the caller's trace.
    expect(byService("api").map(([, id]) => id)).toEqual([traceId, traceId]);
    expect(byService("api").map(([name]) => name)).toContain("POST /orders");
  });
});
