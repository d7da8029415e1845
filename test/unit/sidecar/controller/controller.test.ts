import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createRegistry } from "../../../../services/kit/metrics.ts";
import { Controller, tickSlices } from "../../../../sidecar/controller/controller.ts";
import { type LeaderElector, singleInstance } from "../../../../sidecar/controller/leader.ts";
import { memoryBackend } from "../../../../sidecar/controller/memory-backend.ts";
import { createControllerMetrics } from "../../../../sidecar/controller/metrics.ts";
import { parsePolicies } from "../../../../sidecar/controller/policies.ts";
import { policiesYaml, workloadNames } from "../../../../tools/bench/policies.ts";
import { report, T0 } from "./fixtures.ts";

// The worker on requestRate 10 per pod; at most one pod more per minute, and a scale-down only
// after 5 minutes of lower recommendations (the base manifests' kind of behavior).
const POLICY = `
apiVersion: scaling.swell.dev/v1alpha1
kind: ScalingPolicy
metadata: { name: worker, namespace: default }
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: worker }
  minReplicas: 1
  maxReplicas: 10
  metrics: [{ name: requestRate, averageValue: 10 }]
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies: [{ type: Pods, value: 1, periodSeconds: 60 }]
    scaleDown: { stabilizationWindowSeconds: 300 }
`;

/**
 * A controller replica that starts as a follower, with the target at `replicas`; `lead()` makes
 * it the leader, `tick(rate)` is one second: every pod reports `rate` req/s, then a decision.
 */
function replica(replicas: number, pods = 2) {
  const parsed = parsePolicies(POLICY, "test.yaml");
  if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
  let leading = false;
  const leader: LeaderElector = {
    identity: "b",
    isLeader: () => leading,
    leader: () => (leading ? "b" : "a"),
  };
  const now = { t: T0 };
  const backend = memoryBackend({ "default/worker": replicas });
  // The pods a scale-up adds are not ready yet, as on a real node seconds after the write.
  const read = backend.get;
  backend.get = async (t) => {
    const scale = await read(t);
    return { ...scale, readyReplicas: Math.min(scale.replicas, replicas) };
  };
  const quiet = { info() {}, warn() {}, error() {} };
  const controller = new Controller(parsed.policies, {
    backend,
    leader,
    metrics: createControllerMetrics(createRegistry({ defaultMetrics: false })),
    clock: () => now.t,
    log: quiet,
  });
  let seq = 0;
  return {
    backend,
    lead: () => {
      leading = true;
    },
    async tick(rate: number) {
      now.t += 1000;
      seq++;
      for (let i = 0; i < pods; i++) {
        const outcome = controller.ingest(
          report({
            pod: { name: `worker-${i}`, uid: `uid-${i}` },
            seq,
            window: { start: now.t - 1000, end: now.t },
            signals: { requestRate: rate },
          }),
        );
        expect(outcome.ok).toBe(true);
      }
      return controller.decideNow("default", "worker");
    },
    /** The old leader's write: the target's size changes under this replica. */
    scaledElsewhere: (n: number) => backend.replicas.set("default/worker", n),
  };
}

describe("the controller across a leader handover", () => {
  it.each([
    {
      name: "a new leader does not scale down within the scale-down window what the old one just scaled up",
      // The follower sees load for 3 (2 pods at 15 req/s); the old leader, seeing more, scaled
      // to 4 just before it went (as on the real node: the leader deleted right after a write).
      start: 2,
      rate: 15,
      elsewhere: 4,
      ticksBetween: 0,
      want: 4,
    },
    {
      name: "steps a follower decided but did not apply do not use up the new leader's rate budget",
      // Load for 3; the old leader never scaled (say it was stuck): the new one may add its pod.
      start: 2,
      rate: 15,
      elsewhere: undefined,
      ticksBetween: 5,
      want: 3,
    },
    {
      name: "a step the old leader applied counts against the new leader's rate policy",
      // Load for 5; the old leader added its one pod this minute: the new one may add none yet.
      start: 2,
      rate: 25,
      elsewhere: 3,
      ticksBetween: 5,
      want: 3,
    },
  ])("$name", async ({ start, rate, elsewhere, ticksBetween, want }) => {
    const r = replica(start);
    for (let s = 0; s < 30; s++) {
      const d = await r.tick(rate);
      expect(d?.applied, "a follower writes nothing").toBe(false);
    }
    if (elsewhere !== undefined) r.scaledElsewhere(elsewhere);
    for (let s = 0; s < ticksBetween; s++) await r.tick(rate);
    r.lead();
    const d = await r.tick(rate);
    expect(d?.desiredReplicas, d?.reason).toBe(want);
    expect(r.backend.replicas.get("default/worker")).toBe(want);
  });

  it("a leader whose write failed has not used up its rate budget: it takes the step on the next tick", async () => {
    const r = replica(2);
    r.lead();
    const set = r.backend.set;
    let fail = true;
    r.backend.set = async (t, n, reason) => {
      if (fail) throw new Error("409: the target changed since it was read");
      return set(t, n, reason);
    };
    for (let s = 0; s < 30; s++) {
      const d = await r.tick(15);
      if (d?.desiredReplicas === 3) expect(d.applied).toBe(false);
    }
    fail = false;
    const d = await r.tick(15);
    expect(d?.applied, d?.reason).toBe(true);
    expect(r.backend.replicas.get("default/worker")).toBe(3);
  });
});

/** A controller over `count` workloads whose backend notes when each workload was read. */
function controllerOf(count: number, tickMs: number) {
  const parsed = parsePolicies(policiesYaml(workloadNames(count)), "test.yaml");
  if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
  const backend = memoryBackend();
  const reads: { name: string; at: number }[] = [];
  const controller = new Controller(
    parsed.policies,
    {
      backend: {
        ...backend,
        async get(t) {
          reads.push({ name: t.name, at: Date.now() });
          return backend.get(t);
        },
      },
      leader: singleInstance("test"),
      metrics: createControllerMetrics(createRegistry({ defaultMetrics: false })),
      clock: Date.now,
      log: { info() {}, warn() {}, error() {} },
    },
    { tickMs },
  );
  return { controller, reads };
}

describe("controller tick", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("decides every workload once a tick, spread over the tick instead of all at once", async () => {
    const { controller, reads } = controllerOf(1000, 1000);
    // The last slice starts at 1000 ms; its decisions run a timer turn (1 ms) later.
    const stop = new AbortController();
    controller.start(stop.signal);
    await vi.advanceTimersByTimeAsync(1010);
    stop.abort();
    const names = reads.map((r) => r.name);
    expect(new Set(names).size).toBe(1000);
    expect(names.length).toBe(1000);
    // 50 slices of 20 ms: no instant holds more than a slice's share of the decisions.
    const perInstant = new Map<number, number>();
    for (const r of reads) perInstant.set(r.at, (perInstant.get(r.at) ?? 0) + 1);
    expect(perInstant.size).toBe(50);
    expect(Math.max(...perInstant.values())).toBe(20);
  });

  it("keeps deciding each workload once per tick, tick after tick", async () => {
    const { controller, reads } = controllerOf(7, 1000);
    const stop = new AbortController();
    controller.start(stop.signal);
    await vi.advanceTimersByTimeAsync(3010);
    stop.abort();
    const perWorkload = new Map<string, number>();
    for (const r of reads) perWorkload.set(r.name, (perWorkload.get(r.name) ?? 0) + 1);
    expect([...perWorkload.values()]).toEqual([3, 3, 3, 3, 3, 3, 3]);
  });

  it.each([
    [1000, 50],
    [100, 50],
    [20, 20],
    [1, 1],
    [0.5, 1],
  ])("a %d ms tick is cut into %d slices", (tickMs, slices) => {
    expect(tickSlices(tickMs)).toBe(slices);
  });
});
