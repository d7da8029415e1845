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
  type Fate,
  type Latency,
  misbehave,
  probe,
  times,
  trickle,
  workerPolicyFile,
} from "./harness.ts";

// Slow, greedy and flooding clients against real processes on loopback, each bounded by a
// documented limit (docs/reliability.md), while a well-behaved client is still served.
// The servers run with shorter timeouts than the defaults so the test is short; the limits
// work the same at their defaults (HTTP_HEADERS_TIMEOUT 10 s, HTTP_REQUEST_TIMEOUT 30 s).
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
/** Node sweeps connections for those timeouts every headers timeout / 4 (at most 1 s). */
const SWEEP_MS = HEADERS_TIMEOUT_MS / 4;
/** Slack for a loaded 2-core machine on top of a limit. */
const SLACK_MS = 3000;

/**
 * The probe's latency under an attack, against its quiet baseline: every request answered, the
 * median about as usual, the tail bounded (on a shared 2-core machine the attacker's client and
 * other processes take CPU too, so the tail is noisy; docs/reliability.md has the figures).
 */
function expectUsualLatency(quiet: Latency, attacked: Latency): void {
  console.log(JSON.stringify({ quiet, attacked }));
  expect(attacked.failures).toBe(0);
  expect(attacked.p50).toBeLessThan(Math.max(3 * quiet.p50, quiet.p50 + 50));
  expect(attacked.p95).toBeLessThan(Math.max(5 * quiet.p95, quiet.p95 + 500));
}

function log(figures: Record<string, unknown>): void {
  console.log(JSON.stringify(figures));
}

const limitsEnv = {
  HTTP_HEADERS_TIMEOUT: `${HEADERS_TIMEOUT_MS}ms`,
  HTTP_REQUEST_TIMEOUT: `${REQUEST_TIMEOUT_MS}ms`,
};

describe("worker under slow and greedy clients", () => {
  let worker: ServiceProcess;
  let port = 0;
  let quiet: Latency;
  const probeUrl = () => `${worker.url}/`;

  beforeAll(async () => {
    worker = await startService("worker", limitsEnv);
    port = Number(new URL(worker.url).port);
    quiet = await probe(probeUrl(), 60, () => ({}));
  });
  afterAll(() => worker?.stop());

  it("slow headers (Slowloris, 300 connections): each gets 408 and is closed within the headers timeout", async () => {
    const header = "GET /jobs/x HTTP/1.1\r\nHost: x\r\n";
    const clients = Array.from({ length: 300 }, () =>
      misbehave(port, (s, signal) =>
        trickle(s, signal, [header, ...times(1000, (i) => `X-Slow-${i}: a\r\n`)], 200),
      ),
    );
    await Promise.all(clients.map((c) => c.opened));
    const attacked = await probe(probeUrl(), 40);
    const fates = await Promise.all(clients.map((c) => c.fate));
    expectBounded(fates, HEADERS_TIMEOUT_MS, "HTTP/1.1 408 Request Timeout");
    expectUsualLatency(quiet, attacked);
  });

  it("slow body (300 connections, 1 byte every 200 ms): 408 and closed within the request timeout", async () => {
    const head =
      "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    const clients = Array.from({ length: 300 }, () =>
      misbehave(port, (s, signal) => trickle(s, signal, [head, ...times(1000, () => " ")], 200)),
    );
    await Promise.all(clients.map((c) => c.opened));
    const attacked = await probe(probeUrl(), 40);
    const fates = await Promise.all(clients.map((c) => c.fate));
    expectBounded(fates, REQUEST_TIMEOUT_MS, "HTTP/1.1 408 Request Timeout");
    expectUsualLatency(quiet, attacked);
  });

  it("a response slower than the request timeout is not cut: the limit is on receiving the request", async () => {
    const res = await fetch(`${worker.url}/delay/${REQUEST_TIMEOUT_MS + 500}`);
    expect(res.status).toBe(200);
  });

  it.each([
    { name: "one 20 KiB header", headers: { "x-big": "a".repeat(20 * 1024) } },
    {
      name: "200 headers of 100 bytes",
      headers: Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [`x-h${i}`, "b".repeat(100)]),
      ),
    },
  ])(
    "oversize headers ($name, over HTTP_MAX_HEADER_BYTES 16 KiB): 431, and the next client is served",
    async ({ headers }) => {
      const res = await fetch(`${worker.url}/healthz`, { headers });
      expect(res.status).toBe(431);
      expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    },
  );

  it("2,000 idle connections: others are served as usual, and the headers timeout closes them all", async () => {
    const rssBefore = sample(await metrics(worker.url), "process_resident_memory_bytes") ?? 0;
    const clients = Array.from({ length: 2000 }, () => misbehave(port, async () => {}));
    await Promise.all(clients.map((c) => c.opened));
    const rssWith = sample(await metrics(worker.url), "process_resident_memory_bytes") ?? 0;
    const attacked = await probe(probeUrl(), 40);
    const fates = await Promise.all(clients.map((c) => c.fate));
    expectBounded(fates, HEADERS_TIMEOUT_MS, "HTTP/1.1 408 Request Timeout");
    log({ idleConnections: 2000, rssGrowthMiB: Math.round((rssWith - rssBefore) / 2 ** 20) });
    expectUsualLatency(quiet, attacked);
  });

  /** Every connection was closed by the server with `answer`, within `limitMs` plus slack. */
  function expectBounded(fates: Fate[], limitMs: number, answer: string): void {
    const closed = fates.map((f) => f.closedAfterMs ?? Number.POSITIVE_INFINITY);
    log({ connections: fates.length, limitMs, closedAfterMsMax: Math.max(...closed) });
    // A few may see the close as a reset while they still write, before reading the answer.
    const answers = fates.map((f) => f.answer);
    expect([answer, ""]).toEqual(expect.arrayContaining([...new Set(answers)]));
    expect(answers.filter((a) => a === answer).length).toBeGreaterThan(fates.length / 2);
    for (const f of fates.filter((f) => f.answer === "")) expect(f.error).toBe("ECONNRESET");
    for (const ms of closed) expect(ms).toBeLessThan(limitMs + SWEEP_MS + SLACK_MS);
    expect(Math.min(...closed)).toBeGreaterThanOrEqual(limitMs - 50);
  }
});

describe("worker at its connection cap (HTTP_MAX_CONNECTIONS=200)", () => {
  let worker: ServiceProcess;
  let port = 0;
  beforeAll(async () => {
    worker = await startService("worker", { ...limitsEnv, HTTP_MAX_CONNECTIONS: "200" });
    port = Number(new URL(worker.url).port);
  });
  afterAll(() => worker?.stop());

  it("connections beyond the cap are closed at once; once the idle ones time out, clients are served again", async () => {
    const held = Array.from({ length: 200 }, () => misbehave(port, async () => {}));
    await Promise.all(held.map((c) => c.opened));
    await sleep(100);
    const extra = Array.from({ length: 50 }, () => misbehave(port, async () => {}));
    const extraFates = await Promise.all(extra.map((c) => c.fate));
    // Dropped before any HTTP: no answer, closed long before the headers timeout.
    for (const f of extraFates) {
      expect(f.answer).toBe("");
      expect(f.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS / 2);
    }
    await Promise.all(held.map((c) => c.fate));
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
  });
});

describe("controller under a report flood and a burst of bad tokens", () => {
  const TOKEN = "abuse-test-token";
  let controller: ServiceProcess;

  beforeAll(async () => {
    controller = await startController({
      ...limitsEnv,
      SWELL_TOKEN: TOKEN,
      SWELL_POLICIES: workerPolicyFile(),
    });
  });
  afterAll(() => controller?.stop());

  /** One pod's reports, seq +1 each, window ending now. */
  function reporter(uid: string, token = () => TOKEN) {
    let seq = 0;
    return {
      next: (): RequestInit => {
        const now = Date.now();
        return {
          method: "POST",
          headers: { authorization: `Bearer ${token()}`, "content-type": "application/json" },
          body: JSON.stringify({
            workload: { namespace: "default", kind: "Deployment", name: "worker" },
            pod: { name: uid, uid },
            seq: seq++,
            window: { start: now - 1000, end: now },
            app: "ready",
            signals: { queueLength: 3 },
          }),
        };
      },
    };
  }
  // The probe is a pod that keeps to the limit: one report every 100 ms, 10/s of its 20/s.
  const wellBehaved = reporter("calm-pod");
  const CALM_GAP_MS = 100;

  /**
   * `total` requests from `make` at `perSecond` (open loop: on schedule whatever the answers, up
   * to 32 in flight), their status counts, the first Retry-After seen and the elapsed ms. A
   * paced flood, not a closed loop at full speed: one process answers a request at a time, so
   * no limit keeps a client that takes all its CPU from slowing the others.
   */
  async function flood(total: number, perSecond: number, make: () => RequestInit) {
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let i = next++; i < total; i = next++) {
          const due = start + (i * 1000) / perSecond - performance.now();
          if (due > 0) await sleep(due);
          const res = await fetch(`${controller.url}/v1/reports`, make());
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 429) retryAfter ??= res.headers.get("retry-after");
        }
      }),
    );
    return {
      statuses: Object.fromEntries(statuses),
      retryAfter,
      elapsedMs: Math.round(performance.now() - start),
    };
  }

  it("one pod sending 1,000 reports at 250/s: beyond its 20/s (burst 40) 429 with Retry-After; another pod is served as usual", async () => {
    const flooder = reporter("flood-pod");
    const quiet = await probe(`${controller.url}/v1/reports`, 30, wellBehaved.next, CALM_GAP_MS);
    const [result, attacked] = await Promise.all([
      flood(1000, 250, flooder.next),
      sleep(200).then(() =>
        probe(`${controller.url}/v1/reports`, 40, wellBehaved.next, CALM_GAP_MS),
      ),
    ]);
    log({ flood: result });
    const accepted = result.statuses[202] ?? 0;
    // 409: several in flight at once, some overtake others and arrive out of seq order.
    expect(["202", "409", "429"]).toEqual(expect.arrayContaining(Object.keys(result.statuses)));
    expect(result.statuses[429]).toBeGreaterThan(500);
    expect(accepted).toBeGreaterThanOrEqual(40);
    expect(accepted).toBeLessThanOrEqual(40 + Math.ceil((20 * result.elapsedMs) / 1000) + 1);
    expect(Number(result.retryAfter)).toBeGreaterThanOrEqual(1);
    expectUsualLatency(quiet, attacked);
  });

  it("1,000 reports with bad tokens at 250/s: every one 401 and nothing stored; a good agent is served as usual", async () => {
    let i = 0;
    const quiet = await probe(`${controller.url}/v1/reports`, 30, wellBehaved.next, CALM_GAP_MS);
    const forger = reporter("forged-pod", () => `forged-${i++}`);
    const [result, attacked] = await Promise.all([
      flood(1000, 250, forger.next),
      sleep(200).then(() =>
        probe(`${controller.url}/v1/reports`, 40, wellBehaved.next, CALM_GAP_MS),
      ),
    ]);
    log({ badTokens: result });
    expect(result.statuses).toEqual({ 401: 1000 });
    const view = (await (await fetch(`${controller.url}/v1/workloads/default/worker`)).json()) as {
      pods: { known: number };
    };
    // The calm and the flooding pod; the forged one never got in.
    expect(view.pods.known).toBe(2);
    expectUsualLatency(quiet, attacked);
  });
});
