import { describe, expect, it } from "vitest";
import { intervals, troubles } from "../../../../tools/bench/node-load.ts";
import { benchJson, benchRows } from "../../../../tools/bench/results.ts";
import type { RunFigures, WorkloadFigures } from "../../../../tools/node/load-figures.ts";
import type { LoadRun } from "../../../../tools/node/load-run.ts";
import { CI_LOAD } from "../../../../tools/node/load-tree.ts";

const workload = (w: Partial<WorkloadFigures>): WorkloadFigures => ({
  startReplicas: 2,
  maxReplicas: 3,
  finalReplicas: 2,
  finalReady: 2,
  scaleWrites: [],
  firstScaleWriteS: undefined,
  firstNewReadyS: undefined,
  firstNewServedS: undefined,
  newPods: [],
  newPodsServing: [],
  podStartS: [],
  probes: { total: 0, serverErrors: 0, unanswered: 0 },
  ...w,
});

const figures = (
  api: Partial<WorkloadFigures>,
  worker: Partial<WorkloadFigures> = {},
): RunFigures => ({
  loadStartMs: 0,
  surgeMs: 24_000,
  durationS: 120,
  workloads: { api: workload(api), worker: workload(worker) },
  load: {},
  jobs: { accepted: 10, finished: 10, failed: 0, abandoned: 0, unaccounted: [], unsettled: [] },
});

describe("the bench's real-node intervals", () => {
  it("p50 and p95 per workload over the runs; a run that never got there is NaN and left out", () => {
    const i = intervals([
      figures({ firstScaleWriteS: 4, firstNewReadyS: 20, firstNewServedS: 21 }),
      figures({ firstScaleWriteS: 6, firstNewReadyS: 30, firstNewServedS: undefined }),
      figures({ firstScaleWriteS: 5, firstNewReadyS: 25, firstNewServedS: 23, maxReplicas: 2 }),
    ]);
    expect(i.api?.scaleWrite).toEqual({ p50S: 5, p95S: 5.9, runsS: [4, 6, 5] });
    expect(i.api?.newPodReady.p50S).toBe(25);
    expect(i.api?.newPodServed.runsS).toEqual([21, Number.NaN, 23]);
    expect(i.api?.newPodServed.p50S).toBe(22);
    expect(i.api?.maxReplicas).toEqual([3, 3, 2]);
    expect(Number.isNaN(i.worker?.scaleWrite.p50S)).toBe(true);
  });

  it("names what a run's checks would have failed on", () => {
    const run = (settled: boolean, serverErrors: number, finished: number) =>
      ({
        settled,
        figures: {
          ...figures({}),
          load: { api: { serverErrors } },
          jobs: { ...figures({}).jobs, finished },
        },
      }) as unknown as LoadRun;
    expect(troubles(run(true, 0, 10))).toEqual([]);
    expect(troubles(run(false, 2, 9))).toEqual([
      "not back down to minReplicas",
      "api 5xx: 2",
      expect.stringContaining('"finished":9'),
    ]);
  });

  it("goes to --json under node, and to the table", () => {
    const scalers = {
      swell: intervals([
        figures({ firstScaleWriteS: 4.04, firstNewReadyS: 20, firstNewServedS: 21 }),
      ]),
      hpa: intervals([figures({ firstScaleWriteS: 9, firstNewReadyS: 30, firstNewServedS: 31 })]),
    };
    const r = {
      machine: { cpus: 2, model: "x", node: "v24", loadAverage: 1 },
      quick: true,
      entries: "built" as const,
      failures: [],
      node: {
        runsPerScaler: 1,
        shape: CI_LOAD,
        scalers,
        troubled: [],
        imageMb: 341.2,
        imageRegistryMb: 90.4,
        podStart: { p50S: 6, p95S: 9, n: 4 },
        nodeStats: [
          {
            scaler: "swell" as const,
            run: 1,
            stats: {
              startMs: 0,
              endMs: 1,
              samples: 3,
              containers: {
                "api/swell-agent": {
                  readings: 6,
                  pods: 2,
                  workingSetBytes: { p50: 40e6, max: 45e6 },
                  rssBytes: { p50: 30e6, max: 31e6 },
                  cpuNanoCores: { p50: 4e6, max: 9e6 },
                },
              },
            },
          },
          { scaler: "hpa" as const, run: 1, stats: { error: "no kubelet stats sample succeeded" } },
        ],
        outDir: "out/bench-node",
      },
    };
    const json = benchJson(r).node;
    expect(json?.swell.api).toMatchObject({ scaleWriteP50S: 4, newPodServedP95S: 21 });
    expect(json?.hpa.api?.scaleWriteP50S).toBe(9);
    expect(json).toMatchObject({
      imageMb: 341,
      imageRegistryMb: 90,
      podStartP50S: 6,
      podStartP95S: 9,
    });
    expect(json?.stats).toEqual([
      {
        scaler: "swell",
        run: 1,
        containers: {
          "api/swell-agent": {
            workingSetMbP50: 40,
            workingSetMbMax: 45,
            cpuMillicoresP50: 4,
            cpuMillicoresMax: 9,
            readings: 6,
          },
        },
      },
      { scaler: "hpa", run: 1, error: "no kubelet stats sample succeeded" },
    ]);
    const rows = benchRows(r);
    expect(rows.filter((x) => x.section === "node swell api").map((x) => x.figure)).toEqual([
      "scaleWriteP50S",
      "scaleWriteP95S",
      "newPodReadyP50S",
      "newPodReadyP95S",
      "newPodServedP50S",
      "newPodServedP95S",
    ]);
    expect(rows.find((x) => x.section === "node HPA worker")).toBeDefined();
    expect(
      rows.filter((x) => x.section === "node api/swell-agent").map((x) => [x.figure, x.value]),
    ).toEqual([
      ["workingSetMbP50", 40],
      ["cpuMillicoresP50", 4],
    ]);
  });
});
