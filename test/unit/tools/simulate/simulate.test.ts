import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KPA_DEFAULTS, kpaScaler } from "../../../../tools/simulate/kpa.ts";
import { ChunkQueue, type ModelOptions, runModel } from "../../../../tools/simulate/model.ts";
import { oracleSchedule } from "../../../../tools/simulate/oracle.ts";
import {
  ORACLE_FACTOR,
  summarize,
  type TraceResult,
  verdict,
} from "../../../../tools/simulate/report.ts";
import {
  DEFAULTS,
  dominators,
  type Frontier,
  frontier,
  HPA_TARGETS,
  hpaPhaseSeconds,
  KPA_UTILIZATIONS,
  POLICY_NAMES,
  simulate,
  violationAtCost,
} from "../../../../tools/simulate/run.ts";
import {
  BUILTIN_NAMES,
  builtinTrace,
  parseTraceCsv,
  RANDOM_TRACE_SECONDS,
  randomTrace,
} from "../../../../tools/simulate/traces.ts";

const run = promisify(execFile);

function all(name: (typeof BUILTIN_NAMES)[number]): TraceResult {
  const trace = builtinTrace(name, DEFAULTS.seed);
  const policies = Object.fromEntries(POLICY_NAMES.map((p) => [p, simulate(trace, p, DEFAULTS)]));
  return {
    trace: name,
    seconds: trace.rps.length,
    policies,
    frontier: frontier(trace, DEFAULTS, policies),
  };
}
const results = new Map(BUILTIN_NAMES.map((n) => [n, all(n)]));

describe("acceptance bar (issue 14): every built-in trace, default settings", () => {
  it.each(BUILTIN_NAMES)(
    "%s: no baseline setting is both cheaper than swell and violates less; replica-seconds <= 1.25 x oracle's",
    (name) => {
      const r = results.get(name) as TraceResult;
      const f = r.frontier as Frontier;
      expect(dominators(f)).toEqual([]);
      expect(f.hpa).toHaveLength(HPA_TARGETS.length);
      expect(f.kpa).toHaveLength(KPA_UTILIZATIONS.length);
      const { swell, oracle } = r.policies as Required<TraceResult["policies"]>;
      expect(swell.replicaSeconds).toBeLessThanOrEqual(ORACLE_FACTOR * oracle.replicaSeconds);
      expect(verdict(r)?.pass).toBe(true);
    },
  );
});

describe("the frontier", () => {
  const at = (replicaSeconds: number, sloViolationSeconds: number) => ({
    setting: `${replicaSeconds}/${sloViolationSeconds}`,
    replicaSeconds,
    sloViolationSeconds,
  });
  it.each([
    ["cheaper and fewer violations dominates", at(90, 1), true],
    ["cheaper only does not", at(90, 20), false],
    ["fewer violations only does not", at(110, 1), false],
    ["a tie on one count does not", at(100, 1), false],
  ] as const)("%s", (_name, baseline, dominated) => {
    const f: Frontier = { hpa: [baseline], kpa: [], "kpa-rps": [], swell: at(100, 10) };
    expect(dominators(f).length > 0).toBe(dominated);
  });

  it.each([
    ["between two settings: linear", 150, 15],
    ["on a setting: its own", 200, 10],
    ["cheaper than every setting: the cheapest one's", 50, 20],
    ["dearer than every setting: the dearest one's", 900, 0],
  ] as const)("violationAtCost %s", (_name, cost, expected) => {
    const sweep = [at(300, 0), at(100, 20), at(200, 10)];
    expect(violationAtCost(sweep, cost)).toBeCloseTo(expected, 9);
  });

  it("summarize counts the undominated traces and the medians", () => {
    const rs = [...results.values()];
    const s = summarize(rs);
    expect(s.traces).toBe(BUILTIN_NAMES.length);
    expect(s.undominated).toBe(BUILTIN_NAMES.length - s.lost.length);
    expect(s.medianCostVsOracle).toBeGreaterThan(1);
    // at swell's own cost the HPA's sweep violates more than swell on the built-ins
    expect(s.medianViolationAtSwellCost.hpa).toBeGreaterThan(s.medianViolationSeconds.swell);
  });
});

describe("the oracle", () => {
  it.each(BUILTIN_NAMES)("%s: replaying its schedule meets the SLO without drops", (name) => {
    const oracle = results.get(name)?.policies.oracle;
    expect(oracle?.sloViolationSeconds).toBe(0);
    expect(oracle?.dropped).toBe(0);
    // its bound is below what replaying its own schedule pays
    expect(oracle?.replicaSeconds).toBeLessThanOrEqual(oracle?.scheduleReplicaSeconds ?? 0);
  });

  it("is a lower bound: no run that met the SLO paid fewer replica-seconds", () => {
    let checked = 0;
    for (const [name, r] of results) {
      const bound = r.policies.oracle?.replicaSeconds ?? 0;
      for (const [policy, m] of Object.entries(r.policies)) {
        if (policy === "oracle" || m.sloViolationSeconds > 0 || m.dropped > 0) continue;
        checked++;
        expect(m.replicaSeconds, `${name}/${policy}`).toBeGreaterThanOrEqual(bound);
      }
    }
    expect(checked).toBeGreaterThan(5);
  });
});

describe("the oracle's bound, against every schedule (brute force on small cases)", () => {
  // 1 s steps, SLO one step, cold start 2 steps, 1 request/s per replica, no warm-up.
  const o: ModelOptions = {
    serviceRate: 1,
    coldStartSeconds: 2,
    sloMs: 1000,
    queueCap: 1e9,
    stepMs: 1000,
    warmupSeconds: 0,
  };
  const N = 6;
  const K = 4;

  /** Does ready(i) = r[i] serve every request within the SLO (FIFO, as the model does)? */
  function meetsSlo(rps: number[], r: number[]): boolean {
    const q = new ChunkQueue();
    for (let i = 0; i < N; i++) {
      q.push(i * 1000, rps[i] as number);
      q.serve(r[i] as number);
      const head = q.headTime();
      if (head !== undefined && (i + 1) * 1000 - head > o.sloMs) return false;
    }
    return true;
  }

  it("no schedule that meets the SLO pays less than the bound, and the oracle's own schedule meets it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: N, maxLength: N }),
        (rps) => {
          const schedule = oracleSchedule(rps, o);
          let cheapest = Number.POSITIVE_INFINITY;
          const r = Array(N).fill(1);
          for (let code = 0; code < K ** N; code++) {
            let c = code;
            for (let i = 0; i < N; i++) {
              r[i] = 1 + (c % K);
              c = Math.floor(c / K);
            }
            if (!meetsSlo(rps, r)) continue;
            // what it pays: a replica ready at step u exists from step u - coldStart on
            let paid = 0;
            for (let i = 0; i < N; i++) paid += Math.max(...r.slice(i, i + 3));
            cheapest = Math.min(cheapest, paid);
          }
          expect(schedule.lowerBoundReplicaSeconds).toBeLessThanOrEqual(cheapest);
          expect(meetsSlo(rps, Array.from(schedule.needed))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("simulate()", () => {
  it("is deterministic", () => {
    const trace = builtinTrace("noisy", 7);
    expect(simulate(trace, "swell", DEFAULTS)).toEqual(
      simulate(builtinTrace("noisy", 7), "swell", DEFAULTS),
    );
  });

  it("noisy depends on the seed", () => {
    expect(builtinTrace("noisy", 1).rps).not.toEqual(builtinTrace("noisy", 2).rps);
  });

  it("gives one timeline point per second of the trace", () => {
    const r = results.get("step")?.policies.swell;
    expect(r?.timeline).toHaveLength(600);
    expect(r?.timeline[0]).toEqual({
      t: 1,
      replicas: expect.any(Number),
      ready: expect.any(Number),
      queue: 0,
      rps: 200,
    });
  });

  it("the HPA's sync phase is drawn from the seed, within its 15 s period", () => {
    const phases = new Set(Array.from({ length: 50 }, (_, i) => hpaPhaseSeconds(i)));
    expect(phases.size).toBeGreaterThan(5);
    for (const p of phases) expect(p >= 0 && p < 15 && Number.isInteger(p)).toBe(true);
  });

  it("hpa reacts no sooner than its sync period plus its metric delay", () => {
    const r = results.get("step")?.policies.hpa;
    expect(r?.firstScaleUpSeconds).toBeGreaterThanOrEqual(DEFAULTS.hpaDelaySeconds);
  });
});

describe("the model", () => {
  const o: ModelOptions = {
    serviceRate: 10,
    coldStartSeconds: 5,
    sloMs: 500,
    queueCap: 100,
    stepMs: 100,
    warmupSeconds: 0,
  };

  it.each([
    ["enough replicas: no queue", 10, 100, 0, 0, 0],
    ["too few: the queue grows to the cap and the rest is dropped", 5, 100, 100, 20 * 50 - 100, 19],
  ])("%s", (_n, replicas, rps, maxQueue, dropped, violation) => {
    const m = runModel(Array(20).fill(rps), () => undefined, replicas, o);
    expect(m.maxQueue).toBe(maxQueue);
    expect(m.dropped).toBe(dropped);
    expect(m.sloViolationSeconds).toBeCloseTo(violation, 5);
    expect(m.replicaSeconds).toBe(replicas * 20);
  });

  it("a new replica is ready one cold start after the decision", () => {
    let asked = false;
    const m = runModel(
      Array(10).fill(10),
      (v) => {
        if (asked) return undefined;
        asked = true;
        return v.spec + 1;
      },
      1,
      o,
    );
    const ready = m.timeline.map((p) => p.ready);
    // decided at 0.1 s, ready at 5.1 s
    expect(ready.slice(0, 6)).toEqual([1, 1, 1, 1, 1, 2]);
    expect(m.scaleActions).toBe(1);
  });

  it("a dropped request counts as violation even when the queue is young", () => {
    // 1 replica, 10/s served, 20/s arriving, queue cap 1: the queue is full after the first step,
    // drops from the second on, while no request waits longer than 0.2 s (SLO 0.5 s)
    const m = runModel(Array(5).fill(20), () => undefined, 1, { ...o, queueCap: 1 });
    expect(m.dropped).toBeGreaterThan(0);
    expect(m.sloViolationSeconds).toBeCloseTo(4.9, 5);
  });

  it("per-pod queues: a pod that becomes ready takes new arrivals only; the old queue stays", () => {
    const perPod: ModelOptions = { ...o, balancing: "perPod", podQueueCap: 1000 };
    // 1 replica at 10/s with 20/s arriving for 2 s builds a queue of 20; then 10/s arrive.
    const rps = [20, 20, ...Array(10).fill(10)];
    let asked = false;
    const scaler = (v: { now: number; spec: number }) => {
      if (asked || v.now < 2000) return undefined;
      asked = true;
      return v.spec + 1;
    };
    const shared = runModel(rps, scaler, 1, o);
    asked = false;
    const own = runModel(rps, scaler, 1, perPod);
    // ready at 7 s: the shared queue is drained by both pods, the per-pod one by its own pod only
    const at = (m: typeof shared, t: number) => m.timeline.find((p) => p.t === t)?.queue;
    expect(at(shared, 10)).toBe(0);
    expect(at(own, 10)).toBeGreaterThan(0);
    expect(own.sloViolationSeconds).toBeGreaterThan(shared.sloViolationSeconds);
  });

  it("per-pod queues: a removed pod drains what it holds, uncounted in spec", () => {
    const perPod: ModelOptions = { ...o, balancing: "perPod", podQueueCap: 1000 };
    const rps = [40, 40, 0, 0, 0, 0, 0, 0];
    const m = runModel(rps, (v) => (v.now === 2000 ? 1 : undefined), 2, perPod);
    // 2 pods at 10/s with 40/s for 2 s: 20 queued each; one goes at 2 s and still serves its 20
    expect(m.timeline.at(-1)?.queue).toBe(0);
    expect(m.timeline.find((p) => p.t === 3)?.replicas).toBe(1);
    expect(m.dropped).toBe(0);
  });

  it("counts reversals", () => {
    const sizes = [2, 3, 2, 2, 3];
    let i = 0;
    const m = runModel(
      Array(6).fill(10),
      (v) => (v.now % 1000 === 0 ? sizes[i++] : undefined),
      2,
      o,
    );
    expect(m.scaleActions).toBe(3);
    expect(m.reversals).toBe(2);
  });
});

describe("kpa (Knative defaults)", () => {
  const kpa = () =>
    kpaScaler({
      ...KPA_DEFAULTS,
      metric: "rps",
      target: 10,
      serviceTimeSeconds: 0.1,
      maxScale: 1000,
    });
  const view = (now: number, ready: number, rate: number) => ({
    now,
    spec: ready,
    ready,
    queue: 0,
    arrived: (from: number, to: number) => (rate * (to - from)) / 1000,
    served: () => 0,
    dropped: () => 0,
    waited: () => 0,
  });

  it("sizes on the stable window at 70% of the target", () => {
    const s = kpa();
    let d: number | undefined;
    for (let t = 1000; t <= 60_000; t += 1000) d = s(view(t, 10, 70)) ?? d;
    expect(d).toBe(10);
  });

  it("panics at 2x and does not scale down while panicking", () => {
    const s = kpa();
    for (let t = 1000; t <= 60_000; t += 1000) s(view(t, 10, 70));
    let d: number | undefined;
    for (let t = 61_000; t <= 66_000; t += 1000) d = s(view(t, 10, 500)) ?? d;
    expect(d).toBeGreaterThanOrEqual(50);
    const peak = d as number;
    for (let t = 67_000; t <= 100_000; t += 1000) {
      const next = s(view(t, peak, 70));
      if (next !== undefined) expect(next).toBeGreaterThanOrEqual(peak);
    }
  });
});

describe("kpa on concurrency (its default)", () => {
  it("counts the requests buffered by the activator: a queue raises the size", () => {
    const s = kpaScaler({
      ...KPA_DEFAULTS,
      metric: "concurrency",
      target: 1,
      serviceTimeSeconds: 0.2,
      maxScale: 1000,
    });
    const view = (now: number, waited: number) => ({
      now,
      spec: 10,
      ready: 10,
      queue: waited,
      arrived: () => 50,
      served: () => 35,
      dropped: () => 0,
      waited: () => waited,
    });
    let calm: number | undefined;
    for (let t = 1000; t <= 60_000; t += 1000) calm = s(view(t, 0)) ?? calm;
    // 35 served/s × 0.2 s = 7 in flight over 10 pods at 0.7 target: 10
    expect(calm).toBe(10);
    const q = kpaScaler({
      ...KPA_DEFAULTS,
      metric: "concurrency",
      target: 1,
      serviceTimeSeconds: 0.2,
      maxScale: 1000,
    });
    let queued: number | undefined;
    for (let t = 1000; t <= 60_000; t += 1000) queued = q(view(t, 13)) ?? queued;
    // 7 in flight + 13 waiting = 20, / 0.7 = 28.6: 29
    expect(queued).toBe(29);
  });
});

describe("random traces", () => {
  it("are the same for a seed and differ between seeds", () => {
    expect(randomTrace(5).rps).toEqual(randomTrace(5).rps);
    expect(randomTrace(5).rps).not.toEqual(randomTrace(6).rps);
  });

  it("stay within the documented ranges over many seeds", () => {
    const peaks: number[] = [];
    for (let seed = 1; seed <= 200; seed++) {
      const t = randomTrace(seed, 5);
      expect(t.rps).toHaveLength(RANDOM_TRACE_SECONDS);
      expect(t.coldStartSeconds).toBeGreaterThanOrEqual(2);
      expect(t.coldStartSeconds).toBeLessThanOrEqual(60);
      for (const r of t.rps) expect(r).toBeGreaterThanOrEqual(0);
      peaks.push(Math.max(...t.rps) / 5);
    }
    // peaks (bursts and noise on top of 1..500 replicas' worth) cover small and large services
    expect(Math.min(...peaks)).toBeLessThan(5);
    expect(Math.max(...peaks)).toBeGreaterThan(300);
  });
});

describe("traces from CSV", () => {
  it("reads t,rps as a step function per second", () => {
    expect(parseTraceCsv("t,rps\n0,10\n2,30\n3.5,5\n", "x").rps).toEqual([10, 10, 30, 30, 5]);
  });

  it.each([
    ["time,rate\n0,1\n", 'expected the header "t,rps"'],
    ["t,rps\n0,abc\n", 'x:2: expected "t,rps" with numbers >= 0'],
    ["t,rps\n5,1\n2,1\n", "x:3: t must rise"],
    ["t,rps\n", "x: no rows"],
  ])("rejects %j", (text, message) => {
    expect(() => parseTraceCsv(text, "x")).toThrow(message);
  });
});

describe("npm run simulate (the real CLI)", () => {
  const cli = (args: string[]) =>
    run(process.execPath, ["--import", "tsx", "tools/simulate/main.ts", ...args], {
      cwd: process.cwd(),
    });

  it("--json prints one object with the trace and each policy's metrics and timeline", async () => {
    const { stdout, stderr } = await cli(["--trace", "spike", "--policy", "swell", "--json"]);
    const obj = JSON.parse(stdout);
    expect(Object.keys(obj)).toEqual(["trace", "seed", "policies"]);
    expect(obj.trace).toBe("spike");
    expect(Object.keys(obj.policies)).toEqual(["swell"]);
    expect(obj.policies.swell).toMatchObject({
      replicaSeconds: expect.any(Number),
      sloViolationSeconds: expect.any(Number),
      dropped: expect.any(Number),
      maxQueue: expect.any(Number),
      scaleActions: expect.any(Number),
      reversals: expect.any(Number),
    });
    expect(obj.policies.swell.timeline[0]).toEqual({
      t: 1,
      replicas: 45,
      ready: 45,
      queue: 0,
      rps: 200,
    });
    expect(obj).toEqual(
      JSON.parse(
        JSON.stringify({
          trace: "spike",
          seed: 1,
          policies: { swell: results.get("spike")?.policies.swell },
        }),
      ),
    );
    expect(stderr).toContain("simulate: spike (1/1)");
  });

  it("--json with every policy adds the frontier: each baseline's sweep and swell's point", async () => {
    const { stdout } = await cli(["--trace", "random:3", "--json"]);
    const obj = JSON.parse(stdout);
    expect(Object.keys(obj.frontier)).toEqual(["hpa", "kpa", "kpa-rps", "swell"]);
    expect(obj.frontier.hpa.map((p: { setting: string }) => p.setting)).toEqual(
      HPA_TARGETS.map((t) => `target ${t}`),
    );
    expect(obj.frontier.kpa).toHaveLength(KPA_UTILIZATIONS.length);
    expect(obj.frontier.swell).toEqual({
      setting: "default",
      replicaSeconds: obj.policies.swell.replicaSeconds,
      sloViolationSeconds: obj.policies.swell.sloViolationSeconds,
    });
  }, 120_000); // 13 runs in a child process: seconds alone, much longer on a loaded machine

  it("--seeds A..B --summary runs each seed and prints the issue's figures", async () => {
    const { stdout, stderr } = await cli(["--trace", "random", "--seeds", "3..4", "--summary"]);
    expect(stderr).toContain("simulate: random:4 (2/2)");
    expect(stdout).toMatch(/^swell undominated by any baseline setting: \d of 2 traces/m);
    expect(stdout).toMatch(/^median replica-seconds vs oracle: \d\.\d{3}x$/m);
    expect(stdout).toMatch(/^median reversals: swell \d+(\.5)?, kpa \d+(\.5)?/m);
    expect(stdout).toMatch(
      /^median SLO violation s at swell's cost: hpa \d+(\.\d)?, kpa \d+(\.\d)? /m,
    );
  }, 120_000);

  it("--out writes the JSON, an SVG and a PNG chart; a CSV trace works", async () => {
    const dir = mkdtempSync(join(tmpdir(), "swell-sim-"));
    try {
      const csv = join(dir, "burst.csv");
      writeFileSync(csv, "t,rps\n0,100\n30,300\n60,100\n90,100\n");
      const { stdout } = await cli(["--trace", csv, "--policy", "all", "--out", dir]);
      expect(stdout).toContain("trace burst (91 s)");
      expect(stdout).toMatch(/^oracle\s/m);
      expect(JSON.parse(readFileSync(join(dir, "burst.json"), "utf8")).trace).toBe("burst");
      expect(readFileSync(join(dir, "burst.svg"), "utf8")).toContain("Ready replicas");
      expect(readFileSync(join(dir, "burst.png")).subarray(0, 4).toString("hex")).toBe("89504e47");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--policy-file: the example policy file is the built-in swell policy", async () => {
    const args = ["--trace", "step", "--policy", "swell", "--json"];
    const builtin = await cli(args);
    const fromFile = await cli([...args, "--policy-file", "tools/simulate/policy.example.yaml"]);
    expect(fromFile.stdout).toBe(builtin.stdout);
  });

  it("bad arguments exit 2 with one line per problem", async () => {
    const err = await cli([
      "--trace",
      "step",
      "--policy",
      "nope",
      "--slo=-1",
      "--seeds",
      "5..1",
      "--kpa-metric",
      "cpu",
    ]).catch((e) => e);
    // The kit's exitOnConfigProblems: one `simulate:` line per problem, then where help is.
    expect({ code: err.code, stdout: err.stdout, stderr: err.stderr }).toEqual({
      code: 2,
      stdout: "",
      stderr: [
        'simulate: --slo: expected milliseconds > 0, got "-1"',
        'simulate: --kpa-metric: expected concurrency or rps, got "cpu"',
        'simulate: --seeds: expected A..B with integers A <= B, got "5..1"',
        'simulate: --policy: expected one of swell, hpa, kpa, oracle or all, got "nope"',
        "simulate: see --help",
        "",
      ].join("\n"),
    });
  });

  it("an unknown trace exits 2 and names the built-ins", async () => {
    const err = await cli(["--trace", "no-such-trace.csv"]).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(
      /^simulate: --trace: "no-such-trace\.csv" is neither a built-in trace \(step, spike,.*\nsimulate: see --help\n$/,
    );
  });
});
