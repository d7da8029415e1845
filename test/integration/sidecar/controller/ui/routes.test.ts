import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../../../services/kit/logger.ts";
import { createRegistry } from "../../../../../services/kit/metrics.ts";
import { sharedTokenAuth } from "../../../../../sidecar/controller/auth.ts";
import { parseControllerConfig } from "../../../../../sidecar/controller/config.ts";
import { singleInstance } from "../../../../../sidecar/controller/leader.ts";
import { memoryBackend } from "../../../../../sidecar/controller/memory-backend.ts";
import { parsePolicies } from "../../../../../sidecar/controller/policies.ts";
import {
  createController,
  createControllerApp,
  type RunningController,
  runController,
} from "../../../../../sidecar/controller/run.ts";
import { LiveFeed } from "../../../../../sidecar/controller/ui/feed.ts";
import { registerLivePage } from "../../../../../sidecar/controller/ui/routes.ts";
import { workerPolicyYaml } from "../../../../unit/sidecar/controller/fixtures.ts";

// The live page and its data, served by a real controller on a real socket: the static files,
// the decisions endpoint, and the event stream the page draws from.

const TOKEN = "page-token";
// No rate limit on scale-up: one decision goes straight to maxReplicas.
const POLICY = workerPolicyYaml("{ policies: [{ type: Pods, value: 100, periodSeconds: 1 }] }");

let running: RunningController;
let base: string;
let seq = 0;

beforeEach(async () => {
  const cfg = parseControllerConfig({
    SWELL_TOKEN: TOKEN,
    HOST: "127.0.0.1",
    PORT: "0",
    SWELL_TICK: "60s",
  });
  if (!cfg.ok) throw new Error(cfg.problems.join("\n"));
  const policies = parsePolicies(POLICY, "test.yaml");
  if (!policies.ok) throw new Error(policies.problems.join("\n"));
  running = await runController({
    config: cfg.value,
    policies: policies.policies,
    backend: memoryBackend({ "default/worker": 1 }),
    leader: singleInstance("page-test"),
    auth: sharedTokenAuth(TOKEN),
    logger: createLogger({
      name: "test",
      level: "warn",
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    }),
    registry: createRegistry({ defaultMetrics: false }),
  });
  base = running.server.url;
});

afterEach(async () => {
  await running.stop();
});

async function report(requestRate: number): Promise<void> {
  const now = Date.now();
  const res = await fetch(`${base}/v1/reports`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      workload: { namespace: "default", kind: "Deployment", name: "worker" },
      pod: { name: "worker-1", uid: "uid-1" },
      seq: ++seq,
      window: { start: now - 1000, end: now },
      app: "ready",
      signals: { requestRate },
    }),
  });
  expect(res.status).toBe(202);
}

interface Sse {
  event: string;
  data: unknown;
}

/** Reads server-sent events from a real stream, one at a time. */
async function openEvents(signal: AbortSignal) {
  const res = await fetch(`${base}/v1/events`, { signal });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const stream = {
    /** The next event, or undefined once the server ended the stream. */
    async next(): Promise<Sse | undefined> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(":")) continue; // keep-alive comment
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
          const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join("\n");
          return { event, data: JSON.parse(data) };
        }
        const { value, done } = await reader.read();
        if (done) return undefined;
        buffer += decoder.decode(value, { stream: true });
      }
    },
    /** The next event that `match`es, skipping others. */
    async until(match: (e: Sse) => boolean): Promise<Sse> {
      for (;;) {
        const e = await stream.next();
        if (!e) throw new Error("the event stream ended");
        if (match(e)) return e;
      }
    },
  };
  return stream;
}

describe("live page", () => {
  it.each([
    ["/", /^text\/html/, "/ui/page.js"],
    ["/ui/page.js", /^text\/javascript/, "new EventSource"],
    ["/ui/page.css", /^text\/css/, ".workload"],
    ["/ui/uPlot.js", /^text\/javascript/, "uPlot"],
    ["/ui/uPlot.css", /^text\/css/, ".uplot"],
  ])("serves %s from the controller itself", async (path, type, contains) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(type);
    expect(await res.text()).toContain(contains);
  });

  it("loads nothing from another origin (works offline)", async () => {
    const html = await (await fetch(`${base}/`)).text();
    const js = await (await fetch(`${base}/ui/page.js`)).text();
    for (const text of [html, js]) expect(text).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(js).not.toMatch(/https?:\/\//);
    const csp = (await fetch(`${base}/`)).headers.get("content-security-policy");
    expect(csp).toContain("default-src 'self'");
  });

  it("streams a snapshot, then a sample per decision with the logged decision's reason", async () => {
    const abort = new AbortController();
    const events = await openEvents(abort.signal);
    const snap = (await events.next()) as Sse & {
      data: { workloads: { key: string; metrics: unknown }[]; samples: unknown[] };
    };
    expect(snap.event).toBe("snapshot");
    expect(snap.data.workloads).toEqual([
      expect.objectContaining({
        key: "default/worker",
        minReplicas: 1,
        maxReplicas: 10,
        metrics: [{ name: "requestRate", averageValue: 10, unit: "requests/s" }],
      }),
    ]);
    expect(snap.data.samples).toEqual([]);

    // A report makes the controller decide (and the tick would): the events follow decisions.
    await report(35);
    const workload = await events.until((e) => e.event === "workload");
    expect(workload.data).toMatchObject({ key: "default/worker", mode: "enforce" });
    const first = await events.until((e) => e.event === "sample");
    expect(first.data).toMatchObject({
      workload: "default/worker",
      currentReplicas: 1,
      desiredReplicas: 4,
      readyReplicas: 1,
      pods: 1,
      signals: { requestRate: 35 },
      decision: { desiredReplicas: 4, applied: true, reason: expect.stringContaining("35") },
    });

    // A steady hold is a sample for the charts each time, but one entry in the decision log.
    for (let i = 0; i < 3; i++) await running.controller.decideNow("default", "worker");
    const holds: Sse[] = [];
    while (holds.length < 3) holds.push(await events.until((e) => e.event === "sample"));
    expect(holds.map((h) => h.data)).toEqual([
      expect.objectContaining({
        currentReplicas: 4,
        desiredReplicas: 4,
        decision: expect.anything(),
      }),
      expect.not.objectContaining({ decision: expect.anything() }),
      expect.not.objectContaining({ decision: expect.anything() }),
    ]);
    abort.abort();
  });

  it("gives a page opened later the history so far", async () => {
    await report(35);
    await running.controller.decideNow("default", "worker");
    const abort = new AbortController();
    const events = await openEvents(abort.signal);
    const snap = (await events.next()) as Sse & {
      data: { samples: { desiredReplicas: number; decision?: unknown }[] };
    };
    expect(snap.data.samples.length).toBeGreaterThanOrEqual(1);
    expect(snap.data.samples[0]).toMatchObject({ desiredReplicas: 4, decision: expect.anything() });
    abort.abort();
  });

  it("ends open streams when the controller stops, so shutdown does not wait on them", async () => {
    const events = await openEvents(new AbortController().signal);
    expect((await events.next())?.event).toBe("snapshot");
    const stopped = running.stop();
    expect((await events.next())?.event).toBe("end");
    expect(await events.next()).toBeUndefined();
    await stopped; // server.close() resolved: no connection was left open
    running = { ...running, stop: async () => {} };
  });
});

describe("GET /v1/workloads/{ns}/{name}/decisions", () => {
  it("lists decisions newest first with reason, limiting rule and recommendation", async () => {
    await report(500);
    await running.controller.decideNow("default", "worker");
    const res = await fetch(`${base}/v1/workloads/default/worker/decisions`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      decisions: { at: string; currentReplicas: number; reason: string }[];
    };
    expect(body).toMatchObject({ namespace: "default", name: "worker", policy: "worker" });
    const oldest = body.decisions.at(-1);
    expect(oldest).toMatchObject({
      currentReplicas: 1,
      desiredReplicas: 10,
      limitedBy: "maxReplicas",
      recommendation: 50,
      applied: true,
    });
    expect(oldest?.reason).toContain("500");
    // Each stage's proposal, in order; the last one hands on the decision's size.
    const stages = (oldest as unknown as { stages: { stage: string; replicas: number }[] }).stages;
    expect(stages.map((st) => st.stage)).toEqual(
      expect.arrayContaining(["recommend", "stabilize", "floors"]),
    );
    // The metrics ask for 50; a later stage holds it to maxReplicas and says so.
    expect(stages.find((st) => st.stage === "recommend")).toMatchObject({ replicas: 50 });
    expect(stages).toContainEqual(
      expect.objectContaining({ replicas: 10, limitedBy: "maxReplicas" }),
    );
    expect(stages.at(-1)).toMatchObject({ stage: "floors", replicas: 10 });
    const times = body.decisions.map((d) => Date.parse(d.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    await running.controller.decideNow("default", "worker");
    const one = (await (
      await fetch(`${base}/v1/workloads/default/worker/decisions?limit=1`)
    ).json()) as { decisions: { currentReplicas: number }[] };
    expect(one.decisions).toHaveLength(1);
    expect(one.decisions[0]?.currentReplicas).toBe(10); // the newest: after the scale-up
  });

  it.each([
    ["limit=0", 400],
    ["limit=51", 400],
    ["limit=two", 400],
    ["since=yesterday", 400],
  ])("refuses ?%s with %i problem+json", async (query, status) => {
    const res = await fetch(`${base}/v1/workloads/default/worker/decisions?${query}`);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });

  it("answers 404 problem+json for a workload no policy targets", async () => {
    const res = await fetch(`${base}/v1/workloads/default/nope/decisions`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { detail: string }).detail).toContain("default/nope");
  });
});

describe("event stream limits", () => {
  // The page's routes alone on the kit's app, with small limits, in process.
  function small(limits: { maxStreams: number; maxQueued: number }) {
    const logger = createLogger({
      name: "test",
      level: "silent",
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    });
    const registry = createRegistry({ defaultMetrics: false });
    const policies = parsePolicies(POLICY, "test.yaml");
    if (!policies.ok) throw new Error(policies.problems.join("\n"));
    const controller = createController({
      config: { podTtlMs: 5000, tickMs: 60_000, reportMaxAgeMs: 30_000 },
      policies: policies.policies,
      backend: memoryBackend({ "default/worker": 1 }),
      leader: singleInstance("limits"),
      logger,
      registry,
    });
    const { app } = createControllerApp({ config: { maxBodyBytes: 1 << 20 }, logger, registry });
    const feed = new LiveFeed().follow(controller);
    registerLivePage(app, { controller, feed, keepAliveMs: 60_000, ...limits });
    return { app, controller, feed };
  }

  it("refuses one stream more than maxStreams with 503 and Retry-After, and any once stopped", async () => {
    const { app, controller } = small({ maxStreams: 1, maxQueued: 100 });
    const first = await app.request("/v1/events");
    expect(first.status).toBe(200);
    const second = await app.request("/v1/events");
    expect(second.status).toBe(503);
    expect(second.headers.get("retry-after")).toBe("5");
    expect(second.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    controller.stop();
    await first.text(); // ended by the stop
    const after = await app.request("/v1/events");
    expect(after.status).toBe(503);
  });

  it("closes a stream whose reader falls maxQueued events behind", async () => {
    const { app, controller, feed } = small({ maxStreams: 4, maxQueued: 3 });
    const res = await app.request("/v1/events");
    expect(feed.listeners).toBe(1);
    // Nobody reads the body: the decisions pile up until the stream gives up on it.
    for (let i = 0; i < 10; i++) await controller.decideNow("default", "worker");
    const text = await res.text();
    expect(text).toContain("event: snapshot");
    expect(feed.listeners).toBe(0);
    controller.stop();
  });
});
