import { describe, expect, it } from "vitest";
import { jobTotals, runFigures, scaleWrites } from "../../../../tools/node/load-figures.ts";
import type { Recording } from "../../../../tools/node/load-timeline.ts";

const T0 = Date.parse("2026-12-02T06:00:00Z");
const stamp = (ms: number) => new Date(ms).toISOString();

describe("scaleWrites", () => {
  it.each([
    { specs: [2, 2, 2], writes: [] },
    {
      specs: [2, 3, 3, 2],
      writes: [
        [2, 3],
        [3, 2],
      ],
    },
    {
      specs: [2, 4, 3, 3, 2],
      writes: [
        [2, 4],
        [4, 3],
        [3, 2],
      ],
    },
  ])("$specs → $writes", ({ specs, writes }) => {
    const got = scaleWrites(specs.map((spec, i) => ({ atMs: i * 500, spec })));
    expect(got.map((w) => [w.from, w.to])).toEqual(writes);
  });
});

describe("jobTotals", () => {
  it("sums the accounts, and names Ready pods with none and live pods with work left", () => {
    const t = jobTotals(
      {
        a: { accepted: 10, finished: 10, failed: 0, abandoned: 0, queued: 0, source: "shutdown" },
        b: { accepted: 5, finished: 4, failed: 1, abandoned: 0, queued: 1, source: "metrics" },
      },
      [
        { name: "a", everReady: true },
        { name: "b", everReady: true },
        { name: "c", everReady: true },
        // Deleted before it was ever Ready: no job could reach it.
        { name: "d", everReady: false },
      ],
    );
    expect(t).toEqual({
      accepted: 15,
      finished: 14,
      failed: 1,
      abandoned: 0,
      unaccounted: ["c"],
      unsettled: ["b"],
    });
  });
});

describe("runFigures", () => {
  // A 100 s spike starting at T0: the surge at T0 + 20 s. The api scales 2 → 3 at +25 s; its new
  // pod is first seen Ready at +31 s and first answers a probe at +32 s; back to 2 at +90 s.
  const rec: Recording = {
    startedMs: T0 - 5_000,
    stoppedMs: T0 + 120_000,
    replicas: [
      { atMs: T0 - 5_000, workload: "api", spec: 2, ready: 2 },
      { atMs: T0 + 25_000, workload: "api", spec: 3, ready: 2 },
      { atMs: T0 + 31_000, workload: "api", spec: 3, ready: 3 },
      { atMs: T0 + 90_000, workload: "api", spec: 2, ready: 2 },
    ],
    pods: [
      { name: "api-a", workload: "api", before: true, createdMs: T0 - 60_000 },
      { name: "api-b", workload: "api", before: true, createdMs: T0 - 60_000 },
      {
        name: "api-c",
        workload: "api",
        before: false,
        createdMs: T0 + 25_000,
        readySinceMs: T0 + 30_000,
        firstSeenReadyMs: T0 + 31_000,
        deletedMs: T0 + 90_000,
      },
    ],
    probes: [
      { atMs: T0 + 10_000, workload: "api", status: 200, pod: "api-a" },
      { atMs: T0 + 32_000, workload: "api", status: 200, pod: "api-c" },
      { atMs: T0 + 33_000, workload: "api", status: 0 },
    ],
    jobs: {},
    loadLogs: {
      api: [
        `${stamp(T0)} load: GET http://api/ spike up to 150/s for 100s (open loop)`,
        "sent         100",
        "2xx          100",
        "429          0",
        "other errors 0",
      ].join("\n"),
    },
  };

  it("measures from the surge (20 % into the spike)", () => {
    const f = runFigures(rec, []);
    expect(f.loadStartMs).toBe(T0);
    expect(f.surgeMs).toBe(T0 + 20_000);
    expect(f.workloads.api).toMatchObject({
      startReplicas: 2,
      maxReplicas: 3,
      finalReplicas: 2,
      firstScaleWriteS: 5,
      firstNewReadyS: 11,
      firstNewServedS: 12,
      newPods: ["api-c"],
      newPodsServing: ["api-c"],
      podStartS: [5],
      probes: { total: 3, serverErrors: 0, unanswered: 1 },
    });
    expect(f.load.api?.serverErrors).toBe(0);
  });

  it("a recording without the load's start line is an error", () => {
    expect(() => runFigures({ ...rec, loadLogs: { api: "nothing" } }, [])).toThrow(/start line/);
  });
});
