// The worker's routes in-process (app.request), on a real WorkQueue with the real job runner.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WorkQueue } from "../../../../services/kit/work-queue.ts";
import { addWorkerRoutes, type Job, runJob } from "../../../../services/worker/routes.ts";
import { promtoolCheck, sample } from "../../../integration/services/process.ts";
import { waitFor } from "../../../support/wait.ts";
import { postJson, type ServiceApp, serviceApp } from "../service-app.ts";

type Json = Record<string, unknown>;

let svc: ServiceApp;
let queue: WorkQueue<Job>;
const post = (body: string) => postJson(svc.app, "/jobs", body);
const json = async (res: Response | Promise<Response>) => (await (await res).json()) as Json;

beforeEach(() => {
  svc = serviceApp("worker", { maxBodyBytes: 256, maxDelayMs: 1000 });
  queue = new WorkQueue<Job>({
    capacity: 3,
    concurrency: 2,
    run: runJob,
    registry: svc.registry,
  });
  addWorkerRoutes(svc.app, { info: svc.info, queue, defaultCostMs: 20 });
});
afterEach(() => queue.drain(AbortSignal.timeout(0)));

describe("worker routes", () => {
  it("GET / tells who answered", async () => {
    const res = await svc.app.request("/");
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ name: "worker", version: expect.any(String) });
    expect(typeof body.uptime_seconds).toBe("number");
  });

  it("POST /jobs → 202 with an id; GET /jobs/{id} follows it to done", async () => {
    const res = await post('{"costMs": 10}');
    expect(res.status).toBe(202);
    const { id } = await json(res);
    expect(typeof id).toBe("string");
    expect(res.headers.get("location")).toBe(`/jobs/${id}`);
    const done = await waitFor("the job to finish", async () => {
      const job = await json(svc.app.request(`/jobs/${id}`));
      return job.state === "done" ? job : undefined;
    });
    expect(done).toEqual({ id, state: "done" });
  });

  it("an empty object uses the default cost (JOB_COST_MS)", async () => {
    expect((await post("{}")).status).toBe(202);
    expect(queue.running).toBe(1);
  });

  it("GET /jobs/{unknown} → 404 problem", async () => {
    const res = await svc.app.request("/jobs/nope");
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
    const before = await svc.metrics();
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await json(res)).detail).toContain(detail);
    const after = await svc.metrics();
    const accepted = 'work_jobs_total{outcome="accepted"}';
    expect(sample(after, accepted)).toBe(sample(before, accepted));
    expect(sample(after, "work_queue_length")).toBe(sample(before, "work_queue_length"));
  });

  it("POST /jobs with a body over MAX_BODY_BYTES → 413", async () => {
    const res = await post(JSON.stringify({ costMs: 1, pad: "x".repeat(400) }));
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("queue length rises when the pool is saturated, then 429 with Retry-After when full", async () => {
    // 2 slots, 3 places: 2 long jobs run, 3 wait, the 6th is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post('{"costMs":600}')).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202]);
    const text = await svc.metrics();
    expect(sample(text, "work_queue_length")).toBe(3);
    expect(sample(text, "work_queue_capacity")).toBe(3);
    expect(sample(text, "work_jobs_running")).toBe(2);

    const full = await post('{"costMs":1}');
    expect(full.status).toBe(429);
    expect(full.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(full.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const after = await svc.metrics();
    expect(sample(after, 'work_jobs_total{outcome="rejected"}')).toBe(1);
    expect(sample(after, "http_requests_per_second")).toBeGreaterThan(0);
  });

  it('completions show in work_jobs_total{outcome="completed"}', async () => {
    for (let i = 0; i < 3; i++) expect((await post('{"costMs":5}')).status).toBe(202);
    const completed = await waitFor("the queued jobs to complete", async () => {
      const n = sample(await svc.metrics(), 'work_jobs_total{outcome="completed"}') ?? 0;
      return n >= 3 ? n : undefined;
    });
    expect(completed).toBe(3);
  });

  it("503 once the queue is draining", async () => {
    await queue.drain(AbortSignal.timeout(1000));
    const res = await post("{}");
    expect(res.status).toBe(503);
    expect((await json(res)).detail).toContain("shutting down");
  });

  it("promtool check metrics reports nothing on /metrics", async () => {
    expect((await post("{}")).status).toBe(202);
    const result = promtoolCheck(await svc.metrics());
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("fault injection: /status/{code} and /delay/{ms}", async () => {
    expect((await svc.app.request("/status/502")).status).toBe(502);
    expect((await svc.app.request("/delay/10")).status).toBe(200);
    expect((await svc.app.request("/delay/99999999")).status).toBe(400);
  });
});
