import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  json,
  metrics,
  promtoolCheck,
  type ServiceProcess,
  sample,
  startService,
} from "./services-process.ts";

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("worker (real process)", () => {
  let worker: ServiceProcess;
  beforeAll(async () => {
    worker = await startService("worker", {
      WORKER_CONCURRENCY: "2",
      QUEUE_CAPACITY: "3",
      JOB_COST_MS: "20",
      MAX_BODY_BYTES: "256",
    });
  });
  afterAll(() => worker?.stop());

  it("GET / tells who answered", async () => {
    const res = await fetch(`${worker.url}/`);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ name: "worker", version: expect.any(String) });
    expect(typeof body.uptime_seconds).toBe("number");
  });

  it("healthz and readyz are 200 when serving", async () => {
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
  });

  it("POST /jobs → 202 with an id; GET /jobs/{id} follows it to done", async () => {
    const res = await post(`${worker.url}/jobs`, '{"costMs": 10}');
    expect(res.status).toBe(202);
    const { id } = await json(res);
    expect(typeof id).toBe("string");
    expect(res.headers.get("location")).toBe(`/jobs/${id}`);
    const done = await waitFor(async () => {
      const job = await json(await fetch(`${worker.url}/jobs/${id}`));
      return job.state === "done" ? job : undefined;
    }, "the job to finish");
    expect(done).toEqual({ id, state: "done" });
  });

  it("an empty object uses JOB_COST_MS", async () => {
    expect((await post(`${worker.url}/jobs`, "{}")).status).toBe(202);
  });

  it("GET /jobs/{unknown} → 404 problem", async () => {
    const res = await fetch(`${worker.url}/jobs/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it.each([
    ["invalid JSON", "{costMs:", "not valid JSON"],
    ["wrong type", '{"costMs":"100"}', "costMs"],
    ["above the range", '{"costMs":60001}', "costMs"],
    ["negative", '{"costMs":-1}', "costMs"],
    ["not an object", "[1]", "(body)"],
    ["empty", "", "empty"],
  ])("POST /jobs with %s → 400 naming the problem, queue unchanged", async (_c, body, detail) => {
    const before = await metrics(worker.url);
    const res = await post(`${worker.url}/jobs`, body);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await json(res)).detail).toContain(detail);
    const after = await metrics(worker.url);
    const accepted = 'work_jobs_total{outcome="accepted"}';
    expect(sample(after, accepted)).toBe(sample(before, accepted));
    expect(sample(after, "work_queue_length")).toBe(sample(before, "work_queue_length"));
  });

  it("POST /jobs with a body over MAX_BODY_BYTES → 413", async () => {
    const res = await post(
      `${worker.url}/jobs`,
      JSON.stringify({ costMs: 1, pad: "x".repeat(400) }),
    );
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("queue length rises when the pool is saturated, then 429 with Retry-After when full", async () => {
    // 2 slots, 3 places: 2 long jobs run, 3 wait, the 6th is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await post(`${worker.url}/jobs`, '{"costMs":600}')).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202]);
    const text = await metrics(worker.url);
    expect(sample(text, "work_queue_length")).toBe(3);
    expect(sample(text, "work_queue_capacity")).toBe(3);
    expect(sample(text, "work_jobs_running")).toBe(2);

    const rejectedBefore = sample(text, 'work_jobs_total{outcome="rejected"}') ?? 0;
    const full = await post(`${worker.url}/jobs`, '{"costMs":1}');
    expect(full.status).toBe(429);
    expect(full.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(full.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const after = await metrics(worker.url);
    expect(sample(after, 'work_jobs_total{outcome="rejected"}')).toBe(rejectedBefore + 1);
    expect(sample(after, "http_requests_per_second")).toBeGreaterThan(0);
  });

  it('completions show in work_jobs_total{outcome="completed"}', async () => {
    const completed = await waitFor(async () => {
      const n = sample(await metrics(worker.url), 'work_jobs_total{outcome="completed"}') ?? 0;
      return n >= 7 ? n : undefined;
    }, "the queued jobs to complete");
    expect(completed).toBeGreaterThanOrEqual(7);
  });

  it("promtool check metrics reports nothing on the real /metrics", async () => {
    const result = promtoolCheck(await metrics(worker.url));
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("fault injection: /status/{code} and /delay/{ms}", async () => {
    expect((await fetch(`${worker.url}/status/502`)).status).toBe(502);
    expect((await fetch(`${worker.url}/delay/10`)).status).toBe(200);
    expect((await fetch(`${worker.url}/delay/99999999`)).status).toBe(400);
  });
});
