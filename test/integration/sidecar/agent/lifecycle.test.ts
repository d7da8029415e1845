import { spawnSync } from "node:child_process";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  promtoolCheck,
  type ServiceProcess,
  sample,
  startService,
} from "../../services/process.ts";
import {
  type AgentProcess,
  freePort,
  ReportReceiver,
  sendJobs,
  spawnAgent,
  waitFor,
} from "./harness.ts";

const ROOT = path.resolve(import.meta.dirname, "../../../..");

describe("agent with its app unreachable", () => {
  let agent: AgentProcess;
  const receiver = new ReportReceiver();
  beforeAll(async () => {
    await receiver.up();
    agent = spawnAgent({
      SWELL_METRICS_URL: `http://127.0.0.1:${await freePort()}/metrics`,
      SWELL_CONTROLLER_URL: receiver.url,
      SWELL_WORKLOAD_NAME: "worker",
      SWELL_SCRAPE_INTERVAL: "250ms",
    });
  });
  afterAll(async () => {
    await agent?.stop();
    await receiver.down();
  });

  it("reports app: unreachable with no signals (silence is not zero load)", async () => {
    await waitFor("three reports", () => receiver.reports.length >= 3);
    for (const r of receiver.reports) {
      expect(r.body.app).toBe("unreachable");
      expect(r.body.signals).toEqual({});
    }
  });

  it("its own /healthz, /readyz answer 200 and /metrics counts the failures and passes promtool", async () => {
    const url = await agent.url();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(sample(text, 'swell_agent_scrape_failures_total{reason="connection"}')).toBeGreaterThan(
      0,
    );
    expect(sample(text, 'swell_agent_app_state{state="unreachable"}')).toBe(1);
    expect(sample(text, "swell_agent_reports_accepted_total")).toBeGreaterThan(0);
    expect(sample(text, "swell_agent_scrape_duration_seconds_count")).toBeGreaterThan(0);
    expect(sample(text, "swell_agent_report_duration_seconds_count")).toBeGreaterThan(0);
    const check = promtoolCheck(text);
    expect(check.output).toBe("");
    expect(check.status).toBe(0);
  });
});

describe("agent → worker, controller down and up", () => {
  let worker: ServiceProcess;
  let agent: AgentProcess;
  const receiver = new ReportReceiver();
  beforeAll(async () => {
    worker = await startService("worker", { WORKER_CONCURRENCY: "8", QUEUE_CAPACITY: "1000" });
    await receiver.up();
    // A report every scrape: while the controller is away the agent makes 4 reports a second,
    // which a queueing sender would deliver in one burst once it is back.
    agent = spawnAgent({
      SWELL_METRICS_URL: `${worker.url}/metrics`,
      SWELL_CONTROLLER_URL: receiver.url,
      SWELL_WORKLOAD_NAME: "worker",
      SWELL_SCRAPE_INTERVAL: "250ms",
    });
    await agent.url();
  });
  afterAll(async () => {
    await agent?.stop();
    await worker?.stop();
    await receiver.down();
  });

  it("the newest report arrives, not a backlog", async () => {
    await waitFor("the first reports", () => receiver.reports.length >= 2);
    await receiver.down();
    const downAt = Date.now();
    await sendJobs(worker.url, 50, 3000, 5); // ~12 reports made while the controller is away
    const lastSeqBefore = Math.max(...receiver.reports.map((r) => r.body.seq));
    const upAt = Date.now();
    await receiver.up();
    const first = await waitFor(
      "a report after the controller is back",
      () => receiver.since(upAt)[0],
      10_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const back = receiver.since(upAt);
    // Each one fresh: built from a scrape just before it was sent.
    for (const r of back) expect(r.at - r.body.window.end).toBeLessThan(1000);
    // No burst: about one per scrape interval (a backlog would be ~12 at once).
    expect(back.filter((r) => r.at - first.at < 600).length).toBeLessThanOrEqual(4);
    expect(first.body.seq).toBeGreaterThan(lastSeqBefore);
    expect(receiver.reports.every((r) => r.at < downAt || r.at >= upAt)).toBe(true);
    const text = await (await fetch(`${await agent.url()}/metrics`)).text();
    expect(sample(text, 'swell_agent_report_failures_total{reason="unavailable"}')).toBeGreaterThan(
      0,
    );
    expect(sample(text, "swell_agent_reports_superseded_total")).toBeGreaterThan(5);
  });
});

describe("agent → worker: jumps, token rotation, SIGTERM", () => {
  let worker: ServiceProcess;
  let agent: AgentProcess;
  const receiver = new ReportReceiver();
  const dir = mkdtempSync(path.join(tmpdir(), "swell-agent-"));
  const tokenFile = path.join(dir, "token");

  beforeAll(async () => {
    writeFileSync(tokenFile, "token-one-abc\n");
    worker = await startService("worker", { WORKER_CONCURRENCY: "8", QUEUE_CAPACITY: "1000" });
    await receiver.up();
    agent = spawnAgent({
      SWELL_METRICS_URL: `${worker.url}/metrics`,
      SWELL_CONTROLLER_URL: receiver.url,
      SWELL_WORKLOAD_NAME: "worker",
      SWELL_SCRAPE_INTERVAL: "250ms",
      // Steady state reports rarely; a jump must go out at once anyway.
      SWELL_REPORT_INTERVAL: "10s",
      SWELL_TOKEN_FILE: tokenFile,
    });
    await agent.url();
  });
  afterAll(async () => {
    await agent?.stop();
    await worker?.stop();
    await receiver.down();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a jump in load is reported before the report interval", async () => {
    await waitFor("the first report", () => receiver.reports.length >= 1);
    // Let the windows fill with idle scrapes, then step to 100 jobs/s.
    await new Promise((r) => setTimeout(r, 2000));
    const start = Date.now();
    const load = sendJobs(worker.url, 100, 2500, 5);
    const early = await waitFor(
      "a report showing the load",
      () => receiver.since(start).find((r) => (r.body.signals.requestRate ?? 0) > 20),
      8000,
    );
    await load;
    expect(early.at - start).toBeLessThan(8000); // the interval alone would take 10 s
  });

  it("a rotated token file is read again, and no token is ever logged", async () => {
    expect(receiver.reports.at(-1)?.authorization).toBe("Bearer token-one-abc");
    // Like a projected token: the new file is swapped in atomically.
    writeFileSync(`${tokenFile}.new`, "token-two-xyz\n");
    renameSync(`${tokenFile}.new`, tokenFile);
    const rotatedAt = Date.now();
    await sendJobs(worker.url, 100, 1500, 5); // makes a jump, so a report goes out soon
    await waitFor(
      "a report with the new token",
      () => receiver.since(rotatedAt).find((r) => r.authorization === "Bearer token-two-xyz"),
      12_000,
    );
    expect(agent.output()).not.toContain("token-one-abc");
    expect(agent.output()).not.toContain("token-two-xyz");
  });

  it("SIGTERM: a last report with leaving: true, then exit 0", async () => {
    const lastSeq = Math.max(...receiver.reports.map((r) => r.body.seq));
    const termAt = Date.now();
    agent.proc.kill("SIGTERM");
    const { code, signal } = await agent.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const leaving = receiver.since(termAt).filter((r) => r.body.leaving === true);
    expect(leaving).toHaveLength(1);
    expect(leaving[0]?.body.seq).toBeGreaterThan(lastSeq);
    expect(leaving[0]?.body.app).toBe("ready");
    expect(agent.lines.find((l) => l.msg === "shutdown complete")).toMatchObject({
      leaving_report: "accepted",
    });
  });
});

describe("agent → draining worker", () => {
  let worker: ServiceProcess;
  let agent: AgentProcess;
  const receiver = new ReportReceiver();
  beforeAll(async () => {
    // While draining, the worker answers /readyz 503 but still serves /metrics for 3 s.
    worker = await startService("worker", { SHUTDOWN_DELAY: "3000" });
    await receiver.up();
    agent = spawnAgent({
      SWELL_METRICS_URL: `${worker.url}/metrics`,
      SWELL_CONTROLLER_URL: receiver.url,
      SWELL_WORKLOAD_NAME: "worker",
      SWELL_SCRAPE_INTERVAL: "250ms",
    });
    await agent.url();
  });
  afterAll(async () => {
    await agent?.stop();
    await worker?.stop();
    await receiver.down();
  });

  it("reports notReady with its signals while the app drains, then unreachable once it is gone", async () => {
    await waitFor("a ready report", () => receiver.reports.some((r) => r.body.app === "ready"));
    worker.proc.kill("SIGTERM");
    const notReady = await waitFor("a notReady report", () =>
      receiver.reports.find((r) => r.body.app === "notReady"),
    );
    expect(notReady.body.signals.queueLength).toBe(0);
    expect(notReady.body.signals.requestRate).toBe(0);
    await worker.exited;
    const gone = await waitFor("an unreachable report", () =>
      receiver.reports.find((r) => r.body.app === "unreachable"),
    );
    expect(gone.body.signals).toEqual({});
    const states = receiver.reports.map((r) => r.body.app);
    expect(states.indexOf("notReady")).toBeGreaterThan(states.lastIndexOf("ready"));
  });
});

describe("agent config errors", () => {
  it.each([
    { env: {}, names: ["SWELL_WORKLOAD_NAME"] },
    {
      env: {
        SWELL_WORKLOAD_NAME: "worker",
        SWELL_SCRAPE_INTERVAL: "fast",
        SWELL_CONTROLLER_URL: "nope",
      },
      names: ["SWELL_SCRAPE_INTERVAL", "SWELL_CONTROLLER_URL"],
    },
    {
      env: { SWELL_WORKLOAD_NAME: "worker", SWELL_METRIC_REQUEST_RATE: "x{" },
      names: ["SWELL_METRIC_REQUEST_RATE"],
    },
  ])("exit 2 naming $names, one line each, no stack trace", ({ env, names }) => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "sidecar/agent/main.ts"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(names.length);
    for (const name of names)
      expect(lines.filter((l) => l.startsWith(`config: ${name}: `))).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe("");
  });
});
