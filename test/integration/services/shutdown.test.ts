import { afterAll, describe, expect, it } from "vitest";
import { json, type ServiceProcess, startService } from "./process.ts";

describe("worker graceful shutdown (real process, real SIGTERM)", () => {
  let worker: ServiceProcess | undefined;
  afterAll(() => worker?.stop());

  it("turns not-ready at once, keeps serving for the delay, completes every queued job, exits 0", async () => {
    worker = await startService("worker", {
      LOG_LEVEL: "debug",
      WORKER_CONCURRENCY: "2",
      QUEUE_CAPACITY: "20",
      SHUTDOWN_DELAY: "800ms",
      SHUTDOWN_TIMEOUT: "30s",
    });
    const w = worker;
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) {
      const res = await fetch(`${w.url}/jobs`, { method: "POST", body: '{"costMs":300}' });
      expect(res.status).toBe(202);
      ids.push(String((await json(res)).id));
    }

    w.proc.kill("SIGTERM");
    await w.waitForLine((l) => l.msg === "shutdown: not ready, still serving");
    // During the delay: not ready, still alive and serving (and still taking jobs).
    const ready = await fetch(`${w.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await json(ready)).detail).toBe("not ready: draining");
    expect((await fetch(`${w.url}/healthz`)).status).toBe(200);

    const code = await w.exited;
    expect(code).toBe(0);

    const finished = w.lines.filter((l) => l.msg === "job finished");
    expect(new Set(finished.map((l) => l.job_id))).toEqual(new Set(ids));
    expect(finished.every((l) => l.state === "done")).toBe(true);

    const last = w.lines.at(-1);
    expect(last).toMatchObject({ msg: "shutdown complete", abandoned: 0, requests_finished: true });
    // "completed" counts the jobs finished after the server stopped accepting.
    const drainStart = w.lines.findIndex(
      (l) => l.msg === "shutdown: stopped accepting, finishing in-flight work",
    );
    const finishedInDrain = w.lines
      .slice(drainStart)
      .filter((l) => l.msg === "job finished").length;
    expect(finishedInDrain).toBeGreaterThan(0);
    expect(last?.completed).toBe(finishedInDrain);
  });

  it("abandons what is left when SHUTDOWN_TIMEOUT passes, and says how much", async () => {
    worker = await startService("worker", {
      WORKER_CONCURRENCY: "1",
      QUEUE_CAPACITY: "10",
      SHUTDOWN_TIMEOUT: "300ms",
    });
    const w = worker;
    for (let i = 0; i < 4; i++) {
      await fetch(`${w.url}/jobs`, { method: "POST", body: '{"costMs":5000}' });
    }
    w.proc.kill("SIGTERM");
    expect(await w.exited).toBe(0);
    expect(w.lines.at(-1)).toMatchObject({ msg: "shutdown complete", completed: 0, abandoned: 4 });
  });

  it("a second signal exits at once", async () => {
    worker = await startService("worker", { SHUTDOWN_DELAY: "30s" });
    const w = worker;
    w.proc.kill("SIGTERM");
    await w.waitForLine((l) => l.msg === "shutdown: not ready, still serving");
    w.proc.kill("SIGTERM");
    expect(await w.exited).toBe(143);
  });
});
