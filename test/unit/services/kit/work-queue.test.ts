import { describe, expect, it } from "vitest";
import { createRegistry } from "../../../../services/kit/metrics.ts";
import { WorkQueue } from "../../../../services/kit/work-queue.ts";

/** A job runner the test finishes by hand: each job waits until released. */
function manualRunner() {
  const pending: Array<{ payload: string; finish: (ok: boolean) => void }> = [];
  const started: string[] = [];
  const run = (payload: string, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      started.push(payload);
      pending.push({ payload, finish: (ok) => (ok ? resolve() : reject(new Error("job failed"))) });
      signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
    });
  const finishNext = async (ok = true) => {
    pending.shift()?.finish(ok);
    await new Promise((r) => setImmediate(r));
  };
  return { run, started, pending, finishNext };
}

async function metricValue(queue: { registry: ReturnType<typeof createRegistry> }, line: string) {
  const text = await queue.registry.metrics();
  const m = new RegExp(`^${line.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

function setup(capacity = 3, concurrency = 2) {
  const registry = createRegistry({ defaultMetrics: false });
  const runner = manualRunner();
  const queue = new WorkQueue<string>({ capacity, concurrency, run: runner.run, registry });
  return { queue, registry, runner };
}

describe("WorkQueue", () => {
  it("runs at most `concurrency` jobs and queues the rest in order", () => {
    const { queue, runner } = setup(3, 2);
    const ids = ["a", "b", "c", "d"].map((p) => queue.submit(p));
    expect(ids.every((r) => r.ok)).toBe(true);
    expect(runner.started).toEqual(["a", "b"]);
    expect(queue.running).toBe(2);
    expect(queue.length).toBe(2);
  });

  it("rejects when the queue is full, leaving it unchanged", async () => {
    const { queue, registry } = setup(1, 1);
    expect(queue.submit("a").ok).toBe(true); // running
    expect(queue.submit("b").ok).toBe(true); // waiting
    expect(queue.submit("c")).toEqual({ ok: false, reason: "full" });
    expect(queue.length).toBe(1);
    expect(await metricValue({ registry }, 'work_jobs_total{outcome="rejected"}')).toBe(1);
    expect(await metricValue({ registry }, 'work_jobs_total{outcome="accepted"}')).toBe(2);
  });

  it("tracks each job's state: queued → running → done | failed", async () => {
    const { queue, runner } = setup(3, 1);
    const a = queue.submit("a");
    const b = queue.submit("b");
    if (!a.ok || !b.ok) throw new Error("submit failed");
    expect(queue.get(a.id)?.state).toBe("running");
    expect(queue.get(b.id)?.state).toBe("queued");
    await runner.finishNext(true);
    expect(queue.get(a.id)).toEqual({ id: a.id, state: "done" });
    expect(queue.get(b.id)?.state).toBe("running");
    await runner.finishNext(false);
    expect(queue.get(b.id)?.state).toBe("failed");
    expect(queue.get("no-such-id")).toBeUndefined();
  });

  it("exports queue length, capacity and outcomes", async () => {
    const { queue, registry, runner } = setup(5, 1);
    for (const p of ["a", "b", "c"]) queue.submit(p);
    expect(await metricValue({ registry }, "work_queue_length")).toBe(2);
    expect(await metricValue({ registry }, "work_queue_capacity")).toBe(5);
    expect(await metricValue({ registry }, "work_jobs_running")).toBe(1);
    await runner.finishNext(true);
    await runner.finishNext(false);
    expect(await metricValue({ registry }, "work_queue_length")).toBe(0);
    expect(await metricValue({ registry }, 'work_jobs_total{outcome="completed"}')).toBe(1);
    expect(await metricValue({ registry }, 'work_jobs_total{outcome="failed"}')).toBe(1);
  });

  it("forgets the oldest finished jobs beyond retainFinished", async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const queue = new WorkQueue<number>({
      capacity: 10,
      concurrency: 10,
      run: async () => {},
      registry,
      retainFinished: 2,
    });
    const ids = [1, 2, 3].map((n) => {
      const r = queue.submit(n);
      if (!r.ok) throw new Error("submit failed");
      return r.id;
    });
    await new Promise((r) => setImmediate(r));
    expect(ids.map((id) => queue.get(id)?.state)).toEqual([undefined, "done", "done"]);
  });

  it("drain refuses new jobs and finishes every queued one", async () => {
    const { queue, runner } = setup(5, 1);
    for (const p of ["a", "b", "c"]) queue.submit(p);
    const drained = queue.drain(new AbortController().signal);
    expect(queue.submit("late")).toEqual({ ok: false, reason: "closed" });
    while (runner.pending.length > 0) await runner.finishNext(true);
    expect(await drained).toEqual({
      completed: 3,
      abandoned: 0,
      accepted_total: 3,
      finished_total: 3,
    });
    expect(runner.started).toEqual(["a", "b", "c"]);
  });

  it("drain hands back what is left when the deadline passes", async () => {
    const { queue, runner } = setup(5, 1);
    for (const p of ["a", "b", "c"]) queue.submit(p);
    const deadline = new AbortController();
    const drained = queue.drain(deadline.signal);
    await runner.finishNext(true); // a completes; b starts
    deadline.abort();
    // b was running (aborted) and c still waiting.
    // Every accepted job is accounted for: finished, or handed back as abandoned.
    expect(await drained).toEqual({
      completed: 1,
      abandoned: 2,
      accepted_total: 3,
      finished_total: 1,
    });
    expect(queue.length).toBe(0);
  });

  it("drain of an idle queue resolves at once", async () => {
    const { queue } = setup();
    expect(await queue.drain(new AbortController().signal)).toEqual({
      completed: 0,
      abandoned: 0,
      accepted_total: 0,
      finished_total: 0,
    });
  });

  it("suggests retrying after about one job duration per slot", async () => {
    let t = 0;
    const registry = createRegistry({ defaultMetrics: false });
    const queue = new WorkQueue<number>({
      capacity: 1,
      concurrency: 2,
      now: () => t,
      run: async (ms) => {
        t += ms;
      },
      registry,
    });
    expect(queue.retryAfterSeconds()).toBe(1);
    queue.submit(6000);
    await new Promise((r) => setImmediate(r));
    expect(queue.retryAfterSeconds()).toBe(3);
  });
});
