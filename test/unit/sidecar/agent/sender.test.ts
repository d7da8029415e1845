import { describe, expect, it } from "vitest";
import {
  LatestSender,
  type PostOutcome,
  type Unsequenced,
} from "../../../../sidecar/agent/sender.ts";
import type { Report } from "../../../../sidecar/protocol/report.ts";

// The network is stood in for by a function here (a fake, by name); the real controller-down
// behaviour is in test/integration/sidecar/agent/.
const T0 = 1_800_000_000_000;
const report = (n: number): Unsequenced => ({
  workload: { namespace: "default", kind: "Deployment", name: "w" },
  pod: { name: "w-1", uid: "u" },
  window: { start: T0 + n, end: T0 + n },
  app: "ready",
  signals: { queueLength: n },
});

function fakeController() {
  const received: Report[] = [];
  let mode: "up" | "down" | "refuse" = "up";
  const waiters: Array<() => void> = [];
  return {
    received,
    set(m: typeof mode) {
      mode = m;
    },
    async post(r: Report): Promise<PostOutcome> {
      await new Promise((resolve) => setImmediate(resolve));
      if (mode === "down") return { kind: "retry", reason: "ECONNREFUSED" };
      if (mode === "refuse") return { kind: "refused", status: 422, reason: "stale" };
      received.push(r);
      for (const w of waiters.splice(0)) w();
      return { kind: "accepted", status: 202 };
    },
    async until(n: number) {
      while (received.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

describe("LatestSender", () => {
  it("sends each report with seq increasing by one", async () => {
    const c = fakeController();
    const sender = new LatestSender({
      post: (r) => c.post(r),
      backoff: { baseMs: 1, maxMs: 5 },
      firstSeq: 100,
    });
    const stop = new AbortController();
    const running = sender.run(stop.signal);
    for (let i = 0; i < 3; i++) {
      sender.offer(report(i));
      await c.until(i + 1);
    }
    stop.abort();
    await running;
    expect(c.received.map((r) => r.seq)).toEqual([100, 101, 102]);
  });

  it("while the controller is down keeps only the newest report: no backlog once it is back", async () => {
    const c = fakeController();
    c.set("down");
    let superseded = 0;
    let attempts = 0;
    const sender = new LatestSender({
      post: (r) => c.post(r),
      backoff: { baseMs: 1, maxMs: 4 },
      firstSeq: 0,
      events: { superseded: () => superseded++, attempt: () => attempts++ },
    });
    const stop = new AbortController();
    const running = sender.run(stop.signal);
    for (let i = 0; i < 10; i++) {
      sender.offer(report(i));
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    c.set("up");
    await c.until(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    stop.abort();
    await running;
    expect(attempts).toBeGreaterThan(1);
    expect(c.received).toHaveLength(1);
    expect(c.received[0]?.signals.queueLength).toBe(9);
    expect(superseded).toBe(9);
  });

  it("a retry sends the newest observation, not the report that failed", async () => {
    const c = fakeController();
    c.set("down");
    let observed = report(1);
    let attempts = 0;
    const sender = new LatestSender({
      post: (r) => c.post(r),
      backoff: { baseMs: 1, maxMs: 4 },
      firstSeq: 0,
      latest: () => observed,
      events: { attempt: () => attempts++ },
    });
    const stop = new AbortController();
    const running = sender.run(stop.signal);
    sender.offer(report(1));
    while (attempts < 2) await new Promise((resolve) => setTimeout(resolve, 1));
    observed = report(7); // scraped since, never offered (the report interval had not passed)
    c.set("up");
    await c.until(1);
    stop.abort();
    await running;
    expect(c.received.map((r) => r.signals.queueLength)).toEqual([7]);
  });

  it("drops a refused report and goes on with the next", async () => {
    const c = fakeController();
    c.set("refuse");
    const outcomes: string[] = [];
    const sender = new LatestSender({
      post: (r) => c.post(r),
      backoff: { baseMs: 1, maxMs: 5 },
      firstSeq: 0,
      events: { attempt: (_r, o) => outcomes.push(o.kind) },
    });
    const stop = new AbortController();
    const running = sender.run(stop.signal);
    sender.offer(report(1));
    while (outcomes.length < 1) await new Promise((resolve) => setTimeout(resolve, 1));
    c.set("up");
    sender.offer(report(2));
    await c.until(1);
    stop.abort();
    await running;
    expect(outcomes).toEqual(["refused", "accepted"]);
    expect(c.received.map((r) => [r.seq, r.signals.queueLength])).toEqual([[1, 2]]);
  });

  it("sendFinal retries until its deadline and then gives up", async () => {
    const c = fakeController();
    c.set("down");
    let attempts = 0;
    const sender = new LatestSender({
      post: (r) => c.post(r),
      backoff: { baseMs: 1, maxMs: 5 },
      firstSeq: 0,
      events: { attempt: () => attempts++ },
    });
    const outcome = await sender.sendFinal(
      { ...report(1), leaving: true },
      AbortSignal.timeout(50),
    );
    expect(outcome.kind).toBe("retry");
    expect(attempts).toBeGreaterThan(1);
    c.set("up");
    const ok = await sender.sendFinal({ ...report(2), leaving: true }, AbortSignal.timeout(1000));
    expect(ok.kind).toBe("accepted");
    expect(c.received[0]).toMatchObject({ leaving: true });
  });

  it("waits out a Retry-After only up to its bound: an hour's worth does not silence it", async () => {
    const received: Report[] = [];
    let calls = 0;
    const sender = new LatestSender({
      post: async (r) => {
        if (calls++ === 0)
          return { kind: "retry", reason: "429", status: 429, retryAfterMs: 3_600_000 };
        received.push(r);
        return { kind: "accepted", status: 202 };
      },
      backoff: { baseMs: 1, maxMs: 1 },
      firstSeq: 1,
      maxRetryAfterMs: 50,
    });
    const ac = new AbortController();
    const running = sender.run(ac.signal);
    const start = performance.now();
    sender.offer(report(1));
    while (received.length === 0 && performance.now() - start < 2000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    ac.abort();
    await running;
    expect(received).toHaveLength(1);
    expect(performance.now() - start).toBeGreaterThanOrEqual(45);
  });
});
