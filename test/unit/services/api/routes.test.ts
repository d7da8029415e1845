// The api's routes in-process (app.request), calling a real worker: the worker's own app and
// queue served on loopback by the kit's server, reached over node:http as in production.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addApiRoutes } from "../../../../services/api/routes.ts";
import { requestJson } from "../../../../services/kit/http-client.ts";
import { ConcurrencyLimiter } from "../../../../services/kit/limiter.ts";
import { listen, type RunningServer } from "../../../../services/kit/server.ts";
import { WorkQueue } from "../../../../services/kit/work-queue.ts";
import { addWorkerRoutes, type Job, runJob } from "../../../../services/worker/routes.ts";
import { freePort } from "../../../../tools/local/ports.ts";
import { promtoolCheck, sample } from "../../../integration/services/process.ts";
import { postJson, type ServiceApp, serviceApp } from "../service-app.ts";

type Json = Record<string, unknown>;
const json = async (res: Response) => (await res.json()) as Json;

/** The api app in-process, with its routes wired as main wires them. */
function apiApp(options: {
  workerUrl: URL;
  concurrency?: number;
  maxWaiting?: number;
  workMs?: number;
  maxBodyBytes?: number;
}): ServiceApp {
  const svc = serviceApp("api", { maxBodyBytes: options.maxBodyBytes ?? 1_048_576 });
  addApiRoutes(svc.app, {
    logger: svc.logger,
    info: svc.info,
    limiter: new ConcurrencyLimiter({
      concurrency: options.concurrency ?? 16,
      maxWaiting: options.maxWaiting ?? 1000,
    }),
    workMs: options.workMs ?? 1,
    worker: { url: options.workerUrl, timeoutMs: 5000, request: requestJson },
  });
  return svc;
}

describe("api routes with a real worker", () => {
  let worker: RunningServer;
  let workerApp: ServiceApp;
  let queue: WorkQueue<Job>;
  let api: ServiceApp;
  const postOrder = (body: string) => postJson(api.app, "/orders", body);
  beforeAll(async () => {
    workerApp = serviceApp("worker");
    queue = new WorkQueue<Job>({
      capacity: 2,
      concurrency: 1,
      run: runJob,
      registry: workerApp.registry,
    });
    addWorkerRoutes(workerApp.app, { info: workerApp.info, queue, defaultCostMs: 10 });
    worker = await listen(workerApp.app, { host: "127.0.0.1", port: 0 });
    api = apiApp({ workerUrl: new URL(worker.url), maxBodyBytes: 512 });
  });
  afterAll(async () => {
    await queue?.drain(AbortSignal.timeout(0));
    worker?.closeAllConnections();
    await worker?.close();
  });

  it("GET / tells name, version, pod, hostname and uptime", async () => {
    const res = await api.app.request("/");
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      name: "api",
      version: expect.any(String),
      pod: expect.any(String),
      hostname: expect.any(String),
      uptime_seconds: expect.any(Number),
    });
  });

  it("POST /orders → 202 with the id of a job the worker knows, and a log line", async () => {
    const res = await postOrder('{"item":"book","quantity":2,"costMs":5}');
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toMatchObject({ item: "book", quantity: 2, jobId: expect.any(String) });
    const job = await workerApp.app.request(`/jobs/${body.jobId}`);
    expect(job.status).toBe(200);
    expect((await json(job)).id).toBe(body.jobId);
    expect(api.lines).toContainEqual(
      expect.objectContaining({ msg: "order accepted", job_id: body.jobId, item: "book" }),
    );
  });

  it.each([
    ["invalid JSON", "{", "not valid JSON"],
    ["missing item", '{"quantity":1}', "item"],
    ["wrong type", '{"item":"a","quantity":"1"}', "quantity"],
    ["zero quantity", '{"item":"a","quantity":0}', "quantity"],
    ["fractional quantity", '{"item":"a","quantity":1.5}', "quantity"],
    ["cost out of range", '{"item":"a","quantity":1,"costMs":60001}', "costMs"],
  ])("POST /orders with %s → 400 naming the field, no job submitted", async (_c, body, field) => {
    const accepted = 'work_jobs_total{outcome="accepted"}';
    const before = sample(await workerApp.metrics(), accepted);
    const res = await postOrder(body);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await json(res)).detail).toContain(field);
    expect(sample(await workerApp.metrics(), accepted)).toBe(before);
  });

  it("POST /orders with a body over MAX_BODY_BYTES → 413", async () => {
    const res = await postOrder(JSON.stringify({ item: "x".repeat(1000), quantity: 1 }));
    expect(res.status).toBe(413);
  });

  it("unknown route → 404 problem", async () => {
    const res = await api.app.request("/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("the request counter increments", async () => {
    const series = 'http_requests_total{method="POST",route="/orders",code="202"}';
    const before = sample(await api.metrics(), series) ?? 0;
    expect((await postOrder('{"item":"a","quantity":1}')).status).toBe(202);
    expect(sample(await api.metrics(), series)).toBe(before + 1);
  });

  it("passes the worker's 429 through with Retry-After when its queue is full", async () => {
    // Fill the worker (1 running, 2 waiting) through the api until an order is refused. The
    // refusal checked is the one that happened: jobs left from the earlier tests may still
    // finish and free a slot in between.
    const order = () => postOrder('{"item":"a","quantity":1,"costMs":3000}');
    let res = await order();
    for (let i = 1; i < 10 && res.status !== 429; i++) {
      expect(res.status).toBe(202);
      res = await order();
    }
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await json(res)).detail).toBe("the worker's queue is full");
  });

  it("promtool check metrics reports nothing on /metrics", async () => {
    const result = promtoolCheck(await api.metrics());
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("api routes without a worker", () => {
  it("POST /orders → 503 problem naming the unreachable worker", async () => {
    const api = apiApp({ workerUrl: new URL(`http://127.0.0.1:${await freePort()}`) });
    const res = await postJson(api.app, "/orders", '{"item":"a","quantity":1}');
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await json(res)).detail).toContain("unreachable");
  });
});

describe("api capacity", () => {
  it("serves API_CONCURRENCY at once, queues API_MAX_WAITING, refuses the rest with 503", async () => {
    const api = apiApp({
      workerUrl: new URL("http://127.0.0.1:1"),
      concurrency: 1,
      maxWaiting: 1,
      workMs: 200,
    });
    const results = await Promise.all(
      [1, 2, 3].map(async () => (await api.app.request("/")).status),
    );
    expect(results.sort()).toEqual([200, 200, 503]);
  });
});
