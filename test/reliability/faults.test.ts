import { existsSync, mkdtempSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  metrics,
  type ServiceProcess,
  sample,
  startController,
  startService,
} from "../integration/services/process.ts";
import {
  type AgentProcess,
  freePort,
  ReportReceiver,
  spawnAgent,
} from "../integration/sidecar/agent/harness.ts";
import { waitFor } from "../support/wait.ts";
import { workerPolicyFile } from "./harness.ts";

// Processes that die without warning, a controller that is not there, clocks that jump: real
// processes and signals on loopback. Clock jumps use libfaketime (Debian: faketime) on one
// process only, so nothing else on the machine sees them.

function log(figures: Record<string, unknown>): void {
  console.log(JSON.stringify(figures));
}

/** Posts `count` jobs of `costMs`; the ids the worker accepted. */
async function postJobs(url: string, count: number, costMs: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ costMs }),
    });
    if (res.status === 202) ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

describe("SIGKILL of a worker with jobs queued", () => {
  let worker: ServiceProcess | undefined;
  afterAll(() => worker?.stop());

  it("loses every job it accepted and had not finished, running and queued: counted", async () => {
    worker = await startService("worker", { WORKER_CONCURRENCY: "2", QUEUE_CAPACITY: "100" });
    const ids = await postJobs(worker.url, 40, 60_000);
    expect(ids).toHaveLength(40);
    const text = await metrics(worker.url);
    const queued = sample(text, "work_queue_length") ?? 0;
    const running = sample(text, "work_jobs_running") ?? 0;
    const completed = sample(text, 'work_jobs_total{outcome="completed"}') ?? 0;
    worker.proc.kill("SIGKILL");
    expect(await worker.exited).toBe("SIGKILL");
    // The queue lived in the process: a new one on the same port knows none of them.
    worker = await startService("worker", { PORT: new URL(worker.url).port });
    const known = await Promise.all(
      ids.map(async (id) => (await fetch(`${worker?.url}/jobs/${id}`)).status),
    );
    const lost = known.filter((s) => s === 404).length;
    log({ accepted: ids.length, queued, running, completed, lost });
    expect({ queued, running, completed }).toEqual({ queued: 38, running: 2, completed: 0 });
    expect(lost).toBe(ids.length);
  });
});

describe("agent with its controller unreachable for 15 s, beside one whose controller is up", () => {
  let worker: ServiceProcess;
  let cut: AgentProcess;
  let baseline: AgentProcess;
  const away = new ReportReceiver();
  const up = new ReportReceiver();
  beforeAll(async () => {
    worker = await startService("worker", { WORKER_CONCURRENCY: "4", QUEUE_CAPACITY: "1000" });
    away.port = await freePort();
    await up.up();
    // 20 observations a second: what a queueing sender would pile up while the controller is away.
    const env = (uid: string, controller: string) => ({
      SWELL_METRICS_URL: `${worker.url}/metrics`,
      SWELL_CONTROLLER_URL: controller,
      SWELL_WORKLOAD_NAME: "worker",
      SWELL_SCRAPE_INTERVAL: "50ms",
      SWELL_POD_NAME: uid,
      SWELL_POD_UID: uid,
    });
    cut = spawnAgent(env("cut-off", away.url));
    baseline = spawnAgent(env("baseline", up.url));
    await Promise.all([cut.url(), baseline.url()]);
  });
  afterAll(async () => {
    await Promise.all([cut?.stop(), baseline?.stop()]);
    await worker?.stop();
    await Promise.all([away.down(), up.down()]);
  });

  it("backs off, keeps only the newest report, its memory as flat as the baseline's; a fresh report once it is back", async () => {
    const text = async (a: AgentProcess) => (await fetch(`${await a.url()}/metrics`)).text();
    const failures = (t: string) =>
      sample(t, 'swell_agent_report_failures_total{reason="unavailable"}') ?? 0;
    /** Each agent's heap floor over `ms`: the lowest used size seen, what a GC leaves. */
    const floors = async (ms: number) => {
      const lowest = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
      for (const until = Date.now() + ms; Date.now() < until; await sleep(200)) {
        const [a, b] = await Promise.all([text(cut), text(baseline)]);
        lowest[0] = Math.min(lowest[0] ?? 0, sample(a, "nodejs_heap_size_used_bytes") ?? 0);
        lowest[1] = Math.min(lowest[1] ?? 0, sample(b, "nodejs_heap_size_used_bytes") ?? 0);
      }
      return lowest as [number, number];
    };
    await sleep(1000);
    const early = await text(cut);
    const [cutEarly, baseEarly] = await floors(4000);
    await sleep(3000);
    const [cutLate, baseLate] = await floors(4000);
    const late = await text(cut);
    const attempts = failures(late) - failures(early);
    const superseded =
      (sample(late, "swell_agent_reports_superseded_total") ?? 0) -
      (sample(early, "swell_agent_reports_superseded_total") ?? 0);
    const growth = { cut: cutLate - cutEarly, baseline: baseLate - baseEarly };
    log({
      downSeconds: 12,
      attempts,
      superseded,
      heapFloorGrowthKiB: {
        cut: Math.round(growth.cut / 1024),
        baseline: Math.round(growth.baseline / 1024),
      },
      rssMiB: Math.round((sample(late, "process_resident_memory_bytes") ?? 0) / 2 ** 20),
    });
    // ~240 observations in 12 s; backoff capped at 2 s (full jitter) makes about one try a second.
    expect(attempts).toBeGreaterThan(2);
    expect(attempts).toBeLessThan(40);
    expect(superseded).toBeGreaterThan(100);
    // Nothing kept per observation: ~160 more superseded reports between the two floors would
    // show against the agent that delivers each one.
    expect(growth.cut).toBeLessThan(growth.baseline + 2 * 2 ** 20);

    const upAt = Date.now();
    await away.up();
    const first = await waitFor(
      "a report once the controller is back",
      () => away.since(upAt)[0],
      5000,
    );
    expect(first.at - upAt).toBeLessThan(2500);
    expect(first.at - first.body.window.end).toBeLessThan(1000);
  }, 60_000);
});

/** libfaketime's library, which shifts one process's wall clock as a file says. */
function libfaketime(): string {
  const triplet = process.arch === "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
  const lib = `/usr/lib/${triplet}/faketime/libfaketimeMT.so.1`;
  if (!existsSync(lib)) {
    throw new Error(`libfaketime is needed for the clock tests (apt-get install faketime): ${lib}`);
  }
  return lib;
}

/** A wall clock for one process, moved by writing an offset (`+1h`, `-10m`, `+0`) to a file. */
function fakeClock() {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "swell-clock-")), "offset");
  writeFileSync(file, "+0\n");
  return {
    env: {
      LD_PRELOAD: libfaketime(),
      FAKETIME_TIMESTAMP_FILE: file,
      FAKETIME_NO_CACHE: "1",
      FAKETIME_CACHE_DURATION: "0",
      // Timers and durations (performance.now, setTimeout) keep running evenly, as on a host
      // whose NTP steps the wall clock.
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
    },
    // Written aside and renamed: the process re-reads the file on every clock call, and must
    // never see it empty.
    set: (offset: string) => {
      writeFileSync(`${file}.new`, `${offset}\n`);
      renameSync(`${file}.new`, file);
    },
  };
}

interface View {
  currentReplicas: number | null;
  pods: { reporting: number };
  decisions: { at: string; desiredReplicas: number; reason: string }[];
}

describe("clock jumps", () => {
  const TOKEN = "clock-test-token";
  let worker: ServiceProcess;
  let controller: ServiceProcess;
  let agent: AgentProcess;
  const controllerClock = fakeClock();
  const agentClock = fakeClock();
  const view = async (): Promise<View> =>
    (await (await fetch(`${controller.url}/v1/workloads/default/worker`)).json()) as View;
  const reports = async (outcome: string) =>
    sample(await metrics(controller.url), `swell_reports_total{outcome="${outcome}"}`) ?? 0;

  beforeAll(async () => {
    worker = await startService("worker", { WORKER_CONCURRENCY: "1", QUEUE_CAPACITY: "1000" });
    controller = await startController({
      ...controllerClock.env,
      SWELL_TOKEN: TOKEN,
      SWELL_POLICIES: workerPolicyFile({ maxReplicas: 20, scaleDownAtOnce: true }),
    });
    agent = spawnAgent({
      ...agentClock.env,
      SWELL_METRICS_URL: `${worker.url}/metrics`,
      SWELL_CONTROLLER_URL: controller.url,
      SWELL_WORKLOAD_NAME: "worker",
      SWELL_TOKEN: TOKEN,
      SWELL_SCRAPE_INTERVAL: "250ms",
    });
    await agent.url();
    // A backlog the policy sizes on: ~60 jobs waiting → 6 replicas wanted.
    await postJobs(worker.url, 60, 60_000);
    await waitFor("a scale-up", async () => ((await view()).currentReplicas ?? 0) > 1, 20_000);
  }, 120_000);
  afterAll(async () => {
    await agent?.stop();
    await controller?.stop();
    await worker?.stop();
  });

  /** Samples the workload for `ms`; the smallest replica count seen. */
  async function lowestReplicasFor(ms: number): Promise<number> {
    let lowest = Number.POSITIVE_INFINITY;
    const until = Date.now() + ms;
    while (Date.now() < until) {
      lowest = Math.min(lowest, (await view()).currentReplicas ?? 0);
      await sleep(200);
    }
    return lowest;
  }

  it.each([
    { name: "an hour ahead", offset: "+1h", refused: "stale" },
    { name: "an hour behind", offset: "-1h", refused: "stale" },
  ])(
    "the agent's clock $name: its reports are refused (422) and change nothing; accepted again once it is back",
    async ({ offset, refused }) => {
      const before = (await view()).currentReplicas ?? 0;
      const refusedBefore = await reports(refused);
      agentClock.set(offset);
      await sleep(1500);
      const acceptedDuring = await reports("accepted");
      const lowest = await lowestReplicasFor(6000);
      const acceptedAfterWait = await reports("accepted");
      agentClock.set("+0");
      await waitFor(
        "reports accepted again",
        async () => (await reports("accepted")) > acceptedAfterWait,
        10_000,
      );
      const refusedCount = (await reports(refused)) - refusedBefore;
      log({ agentClock: offset, refused: refusedCount, replicasBefore: before, lowest });
      expect(refusedCount).toBeGreaterThan(5);
      // Nothing from the skewed agent got in; without its data the controller holds.
      expect(acceptedAfterWait).toBe(acceptedDuring);
      expect(lowest).toBeGreaterThanOrEqual(before);
    },
    60_000,
  );

  it.each([
    { name: "jumps an hour ahead", offset: "+1h" },
    { name: "jumps an hour back", offset: "-1h" },
  ])(
    "the controller's clock $name: it holds the replicas (no scale-down on missing data) and recovers once it is back",
    async ({ offset }) => {
      const before = (await view()).currentReplicas ?? 0;
      controllerClock.set(offset);
      const lowest = await lowestReplicasFor(6000);
      controllerClock.set("+0");
      const backAt = await reports("accepted");
      await waitFor(
        "reports accepted again",
        async () => (await reports("accepted")) > backAt + 3,
        10_000,
      );
      await waitFor(
        "the pod counted again",
        async () => (await view()).pods.reporting === 1,
        10_000,
      );
      const after = await lowestReplicasFor(2000);
      log({ controllerClock: offset, replicasBefore: before, lowest, after });
      expect(lowest).toBeGreaterThanOrEqual(before);
      expect(after).toBeGreaterThanOrEqual(before);
    },
    60_000,
  );
});
