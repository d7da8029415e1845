import { describe, expect, it } from "vitest";
import {
  ArrivalRate,
  createHttpMetrics,
  createRegistry,
} from "../../../../services/kit/metrics.ts";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("ArrivalRate", () => {
  it("is 0 with no arrivals", () => {
    const c = clock();
    const rate = new ArrivalRate({ windowMs: 5000, bucketMs: 500, now: c.now });
    c.advance(10_000);
    expect(rate.perSecond()).toBe(0);
  });

  it("measures a steady rate over the window", () => {
    const c = clock();
    const rate = new ArrivalRate({ windowMs: 5000, bucketMs: 500, now: c.now });
    // 20 per second for 10 s: one every 50 ms.
    for (let i = 0; i < 200; i++) {
      rate.record();
      c.advance(50);
    }
    expect(rate.perSecond()).toBeCloseTo(20, 0);
  });

  it("reports a fresh burst at once instead of ramping up over the window", () => {
    const c = clock();
    const rate = new ArrivalRate({ windowMs: 10_000, bucketMs: 1000, now: c.now });
    for (let i = 0; i < 100; i++) {
      rate.record();
      c.advance(10);
    }
    // 100 requests in the first second of the process: 100/s, not 10/s.
    expect(rate.perSecond()).toBeCloseTo(100, 0);
  });

  it("forgets arrivals older than the window", () => {
    const c = clock();
    const rate = new ArrivalRate({ windowMs: 5000, bucketMs: 500, now: c.now });
    c.advance(6000);
    rate.record(50);
    expect(rate.perSecond()).toBeGreaterThan(0);
    c.advance(5500);
    expect(rate.perSecond()).toBe(0);
  });

  it("follows a drop in demand within one window", () => {
    const c = clock();
    const rate = new ArrivalRate({ windowMs: 2000, bucketMs: 250, now: c.now });
    for (let i = 0; i < 400; i++) {
      rate.record();
      c.advance(10); // 100/s for 4 s
    }
    expect(rate.perSecond()).toBeCloseTo(100, -1);
    for (let i = 0; i < 40; i++) {
      rate.record();
      c.advance(100); // then 10/s for 4 s
    }
    expect(rate.perSecond()).toBeCloseTo(10, 0);
  });
});

describe("createHttpMetrics", () => {
  it("exposes the documented names and the default process metrics", async () => {
    const registry = createRegistry();
    createHttpMetrics(registry);
    const text = await registry.metrics();
    for (const name of [
      "http_requests_total",
      "http_request_duration_seconds",
      "http_requests_in_flight",
      "http_requests_per_second",
      "process_cpu_seconds_total",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it("sets http_requests_per_second from the arrivals at scrape time", async () => {
    const c = clock();
    const registry = createRegistry({ defaultMetrics: false });
    const metrics = createHttpMetrics(registry, {
      arrivals: new ArrivalRate({ windowMs: 1000, bucketMs: 100, now: c.now }),
    });
    c.advance(1000);
    metrics.arrivals.record(7);
    const expected = metrics.arrivals.perSecond();
    expect(expected).toBeGreaterThan(5);
    const text = await registry.metrics();
    expect(text).toContain(`\nhttp_requests_per_second ${expected}\n`);
  });
});
