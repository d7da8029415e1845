import { describe, expect, it } from "vitest";
import { parsePolicies } from "../../../../sidecar/controller/policies.ts";
import { Report } from "../../../../sidecar/protocol/report.ts";
import { parseBenchArgs } from "../../../../tools/bench/args.ts";
import { policiesYaml, workloadNames } from "../../../../tools/bench/policies.ts";
import { reportBodies } from "../../../../tools/bench/report-load.ts";
import { type BenchResults, benchJson, benchRows } from "../../../../tools/bench/results.ts";
import {
  cpuPercent,
  mean,
  median,
  percentile,
  ratio,
  rotation,
} from "../../../../tools/bench/stats.ts";
import { formatTable, formatValue, verdict } from "../../../../tools/bench/table.ts";

describe("bench stats", () => {
  it.each([
    [[5], 50, 5],
    [[1, 2, 3, 4], 0, 1],
    [[1, 2, 3, 4], 100, 4],
    [[1, 2, 3, 4], 50, 2.5],
    [[4, 3, 2, 1], 50, 2.5],
    [[10, 20], 25, 12.5],
    [Array.from({ length: 101 }, (_, i) => i), 99, 99],
    [Array.from({ length: 100 }, (_, i) => i + 1), 95, 95.05],
  ])("percentile(%j, %d) = %d", (values, p, expected) => {
    expect(percentile(values, p)).toBeCloseTo(expected, 10);
  });

  it("percentile of nothing is NaN, and p outside 0..100 throws", () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it("median and mean, leaving the input unsorted", () => {
    const xs = [9, 1, 5];
    expect(median(xs)).toBe(5);
    expect(mean(xs)).toBe(5);
    expect(xs).toEqual([9, 1, 5]);
    expect(mean([])).toBeNaN();
  });

  it.each([
    [3, 4, 0.75],
    [1, 0, Number.NaN],
    [1, -2, Number.NaN],
    [Number.NaN, 2, Number.NaN],
  ])("ratio(%d, %d) = %d", (a, b, expected) => {
    if (Number.isNaN(expected)) expect(ratio(a, b)).toBeNaN();
    else expect(ratio(a, b)).toBe(expected);
  });

  it("cpuPercent: CPU seconds over wall seconds, as percent of one core", () => {
    expect(cpuPercent(10, 10.5, 25)).toBeCloseTo(2, 10);
    expect(cpuPercent(0, 1, 0)).toBeNaN();
  });

  it("rotation puts each contender first in turn", () => {
    const c = ["a", "b", "c"];
    expect([0, 1, 2, 3].map((r) => rotation(c, r).join(""))).toEqual(["abc", "bca", "cab", "abc"]);
    expect(rotation([], 2)).toEqual([]);
  });
});

describe("bench args", () => {
  it.each([
    [[], { quick: false, json: false, only: [] }],
    [["--quick", "--json"], { quick: true, json: true, only: [] }],
    [["--only", "agent,controller"], { quick: false, json: false, only: ["agent", "controller"] }],
    [["--only=reaction"], { quick: false, json: false, only: ["reaction"] }],
    [["--only", "metrics-api"], { quick: false, json: false, only: ["metrics-api"] }],
    [["--node"], { quick: false, json: false, only: ["node"] }],
    [["--quick", "--node", "--json"], { quick: true, json: true, only: ["node"] }],
    [["--only", "node", "--node"], { quick: false, json: false, only: ["node"] }],
    [["--only", "agent", "--node"], { quick: false, json: false, only: ["agent", "node"] }],
  ])("%j", (argv, expected) => {
    expect(parseBenchArgs(argv)).toEqual({ ok: true, value: expected });
  });

  it.each([
    [["--fast"], "Unknown option '--fast'"],
    [["--only"], "Option '--only <value>' argument missing"],
    [["--only", "nope"], '--only: unknown section "nope"'],
    [["quick"], "Unexpected argument 'quick'"],
  ])("%j is refused", (argv, problem) => {
    const r = parseBenchArgs(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.join("\n")).toContain(problem);
  });
});

describe("bench table", () => {
  const row = (value: number, op?: ">=" | "<=") => ({
    section: "s",
    figure: "f",
    value,
    unit: "",
    note: "",
    ...(op ? { target: { op, value: 1 } } : {}),
  });
  it.each([
    [row(1, ">="), "ok"],
    [row(0.99, ">="), "MISSED"],
    [row(1, "<="), "ok"],
    [row(1.01, "<="), "MISSED"],
    [row(Number.NaN, "<="), "n/a"],
    [row(5), ""],
  ])("verdict %#", (r, expected) => {
    expect(verdict(r)).toBe(expected);
  });

  it.each([
    [0.9234, "", "0.92"],
    [12.345, "ms", "12.3 ms"],
    [10234.6, "/s", "10235 /s"],
    [Number.NaN, "ms", "n/a"],
  ])("formatValue(%d, %j) = %j", (v, unit, expected) => {
    expect(formatValue(v, unit)).toBe(expected);
  });

  it("aligns columns", () => {
    const text = formatTable([row(1, ">="), { ...row(12345), figure: "longer figure" }]);
    const lines = text.split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain("ok");
    expect(lines[0]?.indexOf("value")).toBeGreaterThan(lines[2]?.indexOf("f ") ?? 0);
  });
});

describe("bench results", () => {
  const machine = { cpus: 2, model: "x", node: "v24", loadAverage: 1 };
  it("--json has exactly the issue's shape, null for what did not run", () => {
    const json = benchJson({ machine, quick: true, entries: "built", failures: [] });
    expect(json).toEqual({
      service: {
        throughputRatio: null,
        throughputRatioTracing: null,
        throughputRatioTracing10: null,
      },
      scrape: { p50Ms: null, p99Ms: null },
      agent: {
        rssMb: null,
        privateMb: null,
        cpuPercent1Hz: null,
        cpuPercent4Hz: null,
        latencyRatio: null,
      },
      controller: {
        reportsPerSecond: null,
        p99Ms: null,
        cpuUsPerReport: null,
        ofBaseline: null,
        cpuOfBaseline: null,
        baselineRequestsPerSecond: null,
      },
      reaction: { p50Ms: null, p95Ms: null },
      metricsApi: { reactionP50Ms: null, reactionP95Ms: null, swellP50Ms: null, swellP95Ms: null },
      node: null,
      failures: [],
    });
  });

  it("rounds figures and keeps a NaN as null", () => {
    const r: BenchResults = {
      machine,
      quick: true,
      entries: "built",
      failures: [],
      reaction: {
        p50Ms: 512.4,
        p95Ms: Number.NaN,
        runsMs: [512],
        surgeRps: 100,
        scrapeIntervalMs: 1000,
        slowPolls: 0,
      },
    };
    expect(benchJson(r).reaction).toEqual({ p50Ms: 512, p95Ms: null });
    expect(benchRows(r).map((row) => row.figure)).toEqual(["p50Ms", "p95Ms"]);
  });
});

describe("bench load", () => {
  it("the policies file holds one valid ScalingPolicy per workload", () => {
    const names = workloadNames(100);
    expect(names[0]).toBe("w-000");
    expect(names[99]).toBe("w-099");
    const parsed = parsePolicies(policiesYaml(names), "bench.yaml");
    expect(parsed.ok && parsed.policies.map((p) => p.spec.targetRef.name)).toEqual(names);
  });

  it("simulated pods send valid reports, round robin, each pod's seq increasing", () => {
    let t = 1_800_000_000_000;
    const next = reportBodies({ pods: 3, workloads: ["a", "b"] }, () => t++);
    const reports = Array.from({ length: 7 }, () => Report.parse(JSON.parse(next())));
    expect(reports.map((r) => r.pod.uid)).toEqual([
      "uid-0",
      "uid-1",
      "uid-2",
      "uid-0",
      "uid-1",
      "uid-2",
      "uid-0",
    ]);
    expect(reports.filter((r) => r.pod.uid === "uid-0").map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(reports.map((r) => r.workload.name)).toEqual(["a", "b", "a", "a", "b", "a", "a"]);
    expect(reports.every((r) => r.window.end - r.window.start === 1000)).toBe(true);
  });

  it("a later load client's pods start above an earlier one's seqs", () => {
    const next = reportBodies({ pods: 2, workloads: ["a"] }, () => 1_800_000_000_000, 500);
    const seqs = Array.from({ length: 4 }, () => Report.parse(JSON.parse(next())).seq);
    expect(seqs).toEqual([500, 500, 501, 501]);
  });
});
