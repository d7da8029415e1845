import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Report } from "../../../../sidecar/protocol/report.ts";
import { type ServiceProcess, startService } from "../../services/process.ts";
import {
  type AgentProcess,
  median,
  ReportReceiver,
  sendJobs,
  sendRequests,
  spawnAgent,
  waitFor,
} from "./harness.ts";

// The agent as a real process against the real worker (and api) and a real HTTP receiver.
// Tolerance: the median requestRate of the reports covering steady load is within ±20 % of the
// rate actually sent; every single one within ±40 %.

describe("agent → worker: signals follow the load sent", () => {
  let worker: ServiceProcess;
  let agent: AgentProcess;
  const receiver = new ReportReceiver();

  beforeAll(async () => {
    worker = await startService("worker", { WORKER_CONCURRENCY: "8", QUEUE_CAPACITY: "1000" });
    await receiver.up();
    agent = spawnAgent({
      SWELL_METRICS_URL: `${worker.url}/metrics`,
      SWELL_CONTROLLER_URL: receiver.url,
      SWELL_WORKLOAD_NAME: "worker",
      SWELL_SCRAPE_INTERVAL: "500ms",
      SWELL_TOKEN: "test-token-123",
    });
    await agent.url();
  });
  afterAll(async () => {
    await agent?.stop();
    await worker?.stop();
    await receiver.down();
  });

  it("requestRate and completionRate match 40 jobs/s within ±20 %; queue stays short; nothing rejected", async () => {
    await waitFor("the first reports", () => receiver.reports.length >= 2);
    const loadStart = Date.now();
    const load = await sendJobs(worker.url, 40, 6000, 10);
    const loadEnd = Date.now();
    expect(load.statuses[202]).toBe(load.sent);
    expect(load.rate).toBeGreaterThan(34);

    const steady = receiver.reports.filter(
      (r) => r.body.window.start >= loadStart + 1000 && r.body.window.end <= loadEnd,
    );
    expect(steady.length).toBeGreaterThanOrEqual(6);
    const rates = steady.map((r) => r.body.signals.requestRate ?? Number.NaN);
    const completions = steady.map((r) => r.body.signals.completionRate ?? Number.NaN);
    expect(median(rates)).toBeGreaterThan(load.rate * 0.8);
    expect(median(rates)).toBeLessThan(load.rate * 1.2);
    for (const r of rates) expect(Math.abs(r - load.rate)).toBeLessThan(load.rate * 0.4);
    expect(median(completions)).toBeGreaterThan(load.rate * 0.8);
    expect(median(completions)).toBeLessThan(load.rate * 1.2);
    for (const r of steady) {
      expect(r.body.app).toBe("ready");
      expect(r.body.signals.rejectRate).toBe(0);
      expect(r.body.signals.queueLength).toBeLessThanOrEqual(8);
      expect(r.body.signals.eventLoopLagSeconds).toBeGreaterThanOrEqual(0);
    }
  });

  it("every report is one the controller's schema takes, seq +1 each, with the bearer token", () => {
    const all = receiver.reports;
    expect(all.length).toBeGreaterThan(8);
    for (const r of all) {
      const parsed = Report.safeParse(r.body);
      expect(parsed.success, JSON.stringify(r.body)).toBe(true);
      expect(r.authorization).toBe("Bearer test-token-123");
      expect(r.body).toMatchObject({
        workload: { namespace: "default", kind: "Deployment", name: "worker" },
        pod: { name: "worker-test-1", uid: "uid-test-1" },
      });
    }
    for (let i = 1; i < all.length; i++) {
      expect(all[i]?.body.seq).toBe((all[i - 1]?.body.seq ?? 0) + 1);
      expect(all[i]?.body.window.end).toBeGreaterThanOrEqual(all[i - 1]?.body.window.end ?? 0);
    }
    expect(agent.output()).not.toContain("test-token-123");
  });

  it("after load stops, requestRate falls to 0 (idle is 0, scrapes and probes are not load)", async () => {
    const quietFrom = Date.now() + 1500;
    await waitFor(
      "idle reports",
      () => receiver.reports.filter((r) => r.body.window.start >= quietFrom).length >= 3,
    );
    for (const r of receiver.reports.filter((x) => x.body.window.start >= quietFrom)) {
      expect(r.body.signals.requestRate).toBe(0);
      expect(r.body.signals.completionRate).toBe(0);
    }
  });
});

describe("agent → worker restarted between two scrapes: a counter reset is not negative or huge", () => {
  let worker: ServiceProcess;
  let agent: AgentProcess;
  const receiver = new ReportReceiver();

  beforeAll(async () => {
    worker = await startService("worker", { WORKER_CONCURRENCY: "8", QUEUE_CAPACITY: "1000" });
    await receiver.up();
    agent = spawnAgent({
      SWELL_METRICS_URL: `${worker.url}/metrics`,
      SWELL_CONTROLLER_URL: receiver.url,
      SWELL_WORKLOAD_NAME: "worker",
      // Long enough that the worker is back before the next scrape: the agent sees no outage,
      // only counters that went back to zero.
      SWELL_SCRAPE_INTERVAL: "5s",
      SWELL_LONG_WINDOW: "20s",
    });
    await agent.url();
  });
  afterAll(async () => {
    await agent?.stop();
    await worker?.stop();
    await receiver.down();
  });

  it("rates stay within [0, 1.5 × sent] across the restart, and reflect the load after it", async () => {
    const port = new URL(worker.url).port;
    // Build up large counters first, so a naive delta after the restart would be very negative.
    const before = sendJobs(worker.url, 80, 7000, 5);
    await waitFor("two reports", () => receiver.reports.length >= 2, 15_000);
    const { rate } = await before;
    // Right after a scrape, restart the worker on the same port while load continues.
    const n = receiver.reports.length;
    await waitFor("a fresh report", () => receiver.reports.length > n, 10_000);
    const during = sendJobs(worker.url, 40, 9000, 5);
    await worker.stop();
    worker = await startService("worker", {
      PORT: port,
      WORKER_CONCURRENCY: "8",
      QUEUE_CAPACITY: "1000",
    });
    const restartedAt = Date.now();
    await during;
    await waitFor(
      "a report after the restart",
      () =>
        receiver.reports.filter((r) => r.body.window.start >= restartedAt && r.body.app === "ready")
          .length >= 1,
      15_000,
    );
    const ceiling = 1.5 * Math.max(rate, 80);
    for (const r of receiver.reports) {
      const v = r.body.signals.requestRate;
      if (v !== undefined) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(ceiling);
      }
    }
    // The agent never saw the worker down: the report spanning the restart is a ready one whose
    // rate comes from counters that went back to zero (a naive delta would be negative).
    expect(receiver.reports.filter((r) => r.body.app !== "ready")).toEqual([]);
    const spanning = receiver.reports.find(
      (r) => r.body.window.start < restartedAt && r.body.window.end >= restartedAt,
    );
    expect(spanning?.body.signals.requestRate).toBeGreaterThan(0);
    expect(spanning?.body.signals.requestRate).toBeLessThan(ceiling);
    const after = receiver.reports.filter((r) => r.body.window.start >= restartedAt);
    expect(after[0]?.body.signals.requestRate).toBeGreaterThan(0);
  });
});

describe("agent → api: arrivals counted by the kit, probes and scrapes excluded", () => {
  let api: ServiceProcess;
  let agent: AgentProcess;
  const receiver = new ReportReceiver();

  beforeAll(async () => {
    api = await startService("api", {});
    await receiver.up();
    agent = spawnAgent({
      SWELL_METRICS_URL: `${api.url}/metrics`,
      SWELL_CONTROLLER_URL: receiver.url,
      SWELL_WORKLOAD_NAME: "api",
      SWELL_SCRAPE_INTERVAL: "250ms",
    });
    await agent.url();
  });
  afterAll(async () => {
    await agent?.stop();
    await api?.stop();
    await receiver.down();
  });

  it("an idle api reads 0 requests/s although the agent scrapes it 8 times a second", async () => {
    await waitFor("reports from an idle api", () => receiver.reports.length >= 8);
    // The first report has no counter rate yet (one scrape is no rate); then 0 every time.
    const [first, ...rest] = receiver.reports;
    expect(first?.body.signals.requestRate).toBeUndefined();
    for (const r of [first, ...rest]) {
      expect(r?.body.app).toBe("ready");
      expect(r?.body.signals.inFlight).toBe(0);
    }
    for (const r of rest) expect(r.body.signals.requestRate).toBe(0);
  });

  it("under 40 requests/s, requestRate matches within ±20 % once the gauge's 5 s window is full", async () => {
    const loadStart = Date.now();
    const load = await sendRequests(`${api.url}/`, 40, 8000);
    const loadEnd = Date.now();
    expect(load.statuses[200]).toBe(load.sent);
    const steady = receiver.reports.filter(
      (r) => r.body.window.start >= loadStart + 5500 && r.body.window.end <= loadEnd,
    );
    expect(steady.length).toBeGreaterThanOrEqual(4);
    const rates = steady.map((r) => r.body.signals.requestRate ?? Number.NaN);
    expect(median(rates)).toBeGreaterThan(load.rate * 0.8);
    expect(median(rates)).toBeLessThan(load.rate * 1.2);
    // Finished requests, over the agent's 1 s window, excluding the agent's own scrapes.
    const completions = steady.map((r) => r.body.signals.completionRate ?? Number.NaN);
    expect(median(completions)).toBeGreaterThan(load.rate * 0.8);
    expect(median(completions)).toBeLessThan(load.rate * 1.2);
  });
});
