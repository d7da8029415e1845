import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  json,
  metrics,
  promtoolCheck,
  type ServiceProcess,
  sample,
  startService,
} from "./services-process.ts";

const postOrder = (url: string, body: string) =>
  fetch(`${url}/orders`, { method: "POST", body, headers: { "content-type": "application/json" } });

/** A port nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("api with a worker (real processes)", () => {
  let worker: ServiceProcess;
  let api: ServiceProcess;
  beforeAll(async () => {
    worker = await startService("worker", {
      WORKER_CONCURRENCY: "1",
      QUEUE_CAPACITY: "2",
      JOB_COST_MS: "10",
    });
    api = await startService("api", {
      WORKER_URL: worker.url,
      API_WORK_MS: "1",
      MAX_BODY_BYTES: "512",
    });
  });
  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
  });

  it("GET / tells name, version, pod, hostname and uptime", async () => {
    const res = await fetch(`${api.url}/`);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      name: "api",
      version: expect.any(String),
      pod: expect.any(String),
      hostname: expect.any(String),
      uptime_seconds: expect.any(Number),
    });
  });

  it("POST /orders → 202 with the id of a job the worker knows", async () => {
    const res = await postOrder(api.url, '{"item":"book","quantity":2,"costMs":5}');
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toMatchObject({ item: "book", quantity: 2, jobId: expect.any(String) });
    const job = await fetch(`${worker.url}/jobs/${body.jobId}`);
    expect(job.status).toBe(200);
    expect((await json(job)).id).toBe(body.jobId);
  });

  it.each([
    ["invalid JSON", "{", "not valid JSON"],
    ["missing item", '{"quantity":1}', "item"],
    ["wrong type", '{"item":"a","quantity":"1"}', "quantity"],
    ["zero quantity", '{"item":"a","quantity":0}', "quantity"],
    ["fractional quantity", '{"item":"a","quantity":1.5}', "quantity"],
    ["cost out of range", '{"item":"a","quantity":1,"costMs":60001}', "costMs"],
  ])("POST /orders with %s → 400 naming the field", async (_c, body, field) => {
    const res = await postOrder(api.url, body);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await json(res)).detail).toContain(field);
  });

  it("POST /orders with a body over MAX_BODY_BYTES → 413", async () => {
    const res = await postOrder(api.url, JSON.stringify({ item: "x".repeat(1000), quantity: 1 }));
    expect(res.status).toBe(413);
  });

  it("unknown route → 404 problem", async () => {
    const res = await fetch(`${api.url}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("the request counter increments", async () => {
    const series = 'http_requests_total{method="POST",route="/orders",code="202"}';
    const before = sample(await metrics(api.url), series) ?? 0;
    expect((await postOrder(api.url, '{"item":"a","quantity":1}')).status).toBe(202);
    expect(sample(await metrics(api.url), series)).toBe(before + 1);
  });

  it("passes the worker's 429 through with Retry-After when its queue is full", async () => {
    // Fill the worker (1 running, 2 waiting) through the api until an order is refused. The
    // refusal checked is the one that happened: checking a later order instead would race
    // jobs left from the earlier tests, which free a slot when they finish.
    const order = () => postOrder(api.url, '{"item":"a","quantity":1,"costMs":3000}');
    let res = await order();
    for (let i = 1; i < 10 && res.status !== 429; i++) {
      expect(res.status).toBe(202);
      res = await order();
    }
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await res.json()) as { detail: string }).detail).toBe("the worker's queue is full");
  });

  it("promtool check metrics reports nothing on the real /metrics", async () => {
    const result = promtoolCheck(await metrics(api.url));
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("api without a worker", () => {
  let api: ServiceProcess;
  beforeAll(async () => {
    api = await startService("api", { WORKER_URL: `http://127.0.0.1:${await closedPort()}` });
  });
  afterAll(() => api?.stop());

  it("POST /orders → 503 problem naming the unreachable worker", async () => {
    const res = await postOrder(api.url, '{"item":"a","quantity":1}');
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await json(res)).detail).toContain("unreachable");
  });
});

describe("api capacity", () => {
  let api: ServiceProcess;
  beforeAll(async () => {
    api = await startService("api", {
      API_CONCURRENCY: "1",
      API_WORK_MS: "400",
      API_MAX_WAITING: "1",
    });
  });
  afterAll(() => api?.stop());

  it("serves API_CONCURRENCY at once, queues API_MAX_WAITING, refuses the rest with 503", async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => fetch(`${api.url}/`).then((r) => r.status)),
    );
    expect(results.sort()).toEqual([200, 200, 503]);
  });
});
