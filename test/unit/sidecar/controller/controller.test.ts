import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createRegistry } from "../../../../services/kit/metrics.ts";
import { Controller, tickSlices } from "../../../../sidecar/controller/controller.ts";
import { singleInstance } from "../../../../sidecar/controller/leader.ts";
import { memoryBackend } from "../../../../sidecar/controller/memory-backend.ts";
import { createControllerMetrics } from "../../../../sidecar/controller/metrics.ts";
import { parsePolicies } from "../../../../sidecar/controller/policies.ts";
import { policiesYaml, workloadNames } from "../../../../tools/bench/policies.ts";
import { T0 } from "./fixtures.ts";

const quiet = { info() {}, warn() {}, error() {} };

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
      log: quiet,
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
