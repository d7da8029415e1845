/** Presenting a simulation: the terminal table, the JSON object and the chart. */
import { lineChartSvg, type Panel } from "../chart/chart.ts";
import {
  dominators,
  type Frontier,
  type PolicyName,
  type PolicyResult,
  type SimOptions,
  violationAtCost,
} from "./run.ts";

export interface TraceResult {
  trace: string;
  seconds: number;
  /** the seed the run used (noisy and random traces, the HPA's sync phase) */
  seed?: number;
  coldStartSeconds?: number;
  policies: Partial<Record<PolicyName, PolicyResult>>;
  /** with swell, hpa and kpa: each baseline's sweep and swell's point */
  frontier?: Frontier;
}

/**
 * The acceptance bar (issue 14): no baseline setting both cheaper than swell and with fewer
 * violation seconds, and swell's replica-seconds ≤ 1.25 × the oracle's on a trace.
 */
export const ORACLE_FACTOR = 1.25;

export interface Verdict {
  pass: boolean;
  lines: string[];
}

export function verdict(r: TraceResult): Verdict | undefined {
  const { swell, oracle } = r.policies;
  if (!swell || !oracle || !r.frontier) return undefined;
  const beaten = dominators(r.frontier);
  const checks = [
    [
      beaten.length === 0,
      beaten.length === 0
        ? `undominated by ${frontierSize(r.frontier)} baseline settings`
        : `dominated by ${beaten.map((b) => `${b.setting} (${num(b.replicaSeconds)} replica-s, ${b.sloViolationSeconds}s)`).join(", ")}`,
    ],
    [
      swell.replicaSeconds <= ORACLE_FACTOR * oracle.replicaSeconds,
      `replica-seconds ${(swell.replicaSeconds / oracle.replicaSeconds).toFixed(3)}x oracle <= ${ORACLE_FACTOR}x`,
    ],
  ] as const;
  return {
    pass: checks.every(([ok]) => ok),
    lines: checks.map(([ok, text]) => `${ok ? "ok  " : "FAIL"} ${text}`),
  };
}

const frontierSize = (f: Frontier) => f.hpa.length + f.kpa.length + f["kpa-rps"].length;

const num = (x: number, digits = 0) =>
  x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function table(r: TraceResult, o: SimOptions): string {
  const oracle = r.policies.oracle?.replicaSeconds;
  const head = [
    "policy",
    "replica-s",
    "vs oracle",
    "SLO viol s",
    "dropped",
    "max queue",
    "actions",
    "reversals",
    "first up s",
  ];
  const rows = Object.entries(r.policies).map(([name, m]) => [
    name,
    num(m.replicaSeconds),
    oracle ? `${(m.replicaSeconds / oracle).toFixed(2)}x` : "-",
    num(m.sloViolationSeconds, 1),
    num(m.dropped),
    num(m.maxQueue),
    String(m.scaleActions),
    String(m.reversals),
    m.firstScaleUpSeconds === null ? "-" : m.firstScaleUpSeconds.toFixed(1),
  ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join("  ");
  const out = [
    `trace ${r.trace} (${r.seconds} s): ${o.serviceRate} req/s per replica, cold start ${o.coldStartSeconds} s, SLO ${o.sloMs} ms, seed ${o.seed}`,
    line(head),
    ...rows.map(line),
  ];
  const v = verdict(r);
  if (v)
    out.push(
      `acceptance: ${v.pass ? "PASS" : "FAIL"} (${v.lines.map((l) => l.slice(5)).join("; ")})`,
    );
  return out.join("\n");
}

/** The same table as Markdown (--markdown), for BENCHMARKS.md. */
export function markdownTable(r: TraceResult): string {
  const oracle = r.policies.oracle?.replicaSeconds;
  const out = [
    `**${r.trace}** (${r.seconds} s)`,
    "",
    "| policy | replica-s | vs oracle | SLO violation s | dropped | max queue | scale actions | reversals | first scale-up s |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const [name, m] of Object.entries(r.policies)) {
    out.push(
      `| ${name} | ${num(m.replicaSeconds)} | ${oracle ? `${(m.replicaSeconds / oracle).toFixed(2)}x` : "-"} | ${num(m.sloViolationSeconds, 1)} | ${num(m.dropped)} | ${num(m.maxQueue)} | ${m.scaleActions} | ${m.reversals} | ${m.firstScaleUpSeconds === null ? "-" : m.firstScaleUpSeconds.toFixed(1)} |`,
    );
  }
  const v = verdict(r);
  if (v)
    out.push(
      "",
      `Acceptance: ${v.pass ? "pass" : "FAIL"} (${v.lines.map((l) => l.slice(5)).join("; ")}).`,
    );
  return out.join("\n");
}

/** The --json object: {"trace", "seed", "policies": {name: {metrics..., timeline}}, "frontier"}. */
export function jsonObject(r: TraceResult): {
  trace: string;
  seed?: number;
  policies: Partial<Record<PolicyName, PolicyResult>>;
  frontier?: Frontier;
} {
  return {
    trace: r.trace,
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
    policies: r.policies,
    ...(r.frontier ? { frontier: r.frontier } : {}),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? (s[m] as number)
      : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export interface Summary {
  traces: number;
  undominated: number;
  /** the traces where some baseline setting dominated swell, with one that did */
  lost: { trace: string; by: string; swell: string; baseline: string }[];
  medianCostVsOracle: number;
  medianReversals: { swell: number; kpa: number };
  /** median seconds over the SLO (drops included): swell, and the hpa and kpa rows' settings */
  medianViolationSeconds: { swell: number; hpa: number; kpa: number };
  /** median over traces of each sweep's violation seconds at swell's cost (violationAtCost) */
  medianViolationAtSwellCost: { hpa: number; kpa: number };
  /** traces where swell reversed direction no more often than the KPA */
  reversalsAtMostKpa: number;
}

/** The figures issue 14 asks for, over a set of traces run with the frontier. */
export function summarize(results: readonly TraceResult[]): Summary {
  const withF = results.filter((r) => r.frontier && r.policies.swell && r.policies.oracle);
  const lost: Summary["lost"] = [];
  for (const r of withF) {
    const by = dominators(r.frontier as Frontier);
    const first = by[0];
    if (!first) continue;
    const s = (r.frontier as Frontier).swell;
    lost.push({
      trace: r.trace,
      by: first.setting,
      swell: `${num(s.replicaSeconds)} replica-s, ${s.sloViolationSeconds}s`,
      baseline: `${num(first.replicaSeconds)} replica-s, ${first.sloViolationSeconds}s`,
    });
  }
  const kpaRev = withF.map((r) => r.policies.kpa?.reversals ?? 0);
  const swellRev = withF.map((r) => r.policies.swell?.reversals ?? 0);
  return {
    traces: withF.length,
    undominated: withF.length - lost.length,
    lost,
    medianCostVsOracle: median(
      withF.map(
        (r) =>
          (r.policies.swell as PolicyResult).replicaSeconds /
          (r.policies.oracle as PolicyResult).replicaSeconds,
      ),
    ),
    medianReversals: { swell: median(swellRev), kpa: median(kpaRev) },
    medianViolationSeconds: {
      swell: median(withF.map((r) => r.policies.swell?.sloViolationSeconds ?? 0)),
      hpa: median(withF.map((r) => r.policies.hpa?.sloViolationSeconds ?? 0)),
      kpa: median(withF.map((r) => r.policies.kpa?.sloViolationSeconds ?? 0)),
    },
    medianViolationAtSwellCost: {
      hpa: median(withF.map((r) => atSwellCost(r.frontier as Frontier, "hpa"))),
      kpa: median(withF.map((r) => atSwellCost(r.frontier as Frontier, "kpa"))),
    },
    reversalsAtMostKpa: swellRev.filter((x, i) => x <= (kpaRev[i] as number)).length,
  };
}

const atSwellCost = (f: Frontier, which: "hpa" | "kpa") =>
  violationAtCost(f[which], f.swell.replicaSeconds);

const r1 = (x: number) => Math.round(x * 10) / 10;

export function summaryText(s: Summary): string {
  const pct = (n: number) => `${((100 * n) / Math.max(1, s.traces)).toFixed(1)} %`;
  return [
    `swell undominated by any baseline setting: ${s.undominated} of ${s.traces} traces (${pct(s.undominated)})`,
    `median replica-seconds vs oracle: ${s.medianCostVsOracle.toFixed(3)}x`,
    `median reversals: swell ${s.medianReversals.swell}, kpa ${s.medianReversals.kpa} (swell <= kpa on ${s.reversalsAtMostKpa} of ${s.traces})`,
    `median SLO violation s (drops included): swell ${r1(s.medianViolationSeconds.swell)}, hpa ${r1(s.medianViolationSeconds.hpa)}, kpa ${r1(s.medianViolationSeconds.kpa)} (the hpa and kpa rows' settings)`,
    `median SLO violation s at swell's cost: hpa ${r1(s.medianViolationAtSwellCost.hpa)}, kpa ${r1(s.medianViolationAtSwellCost.kpa)} (each sweep between its settings that bracket swell's replica-seconds)`,
    ...s.lost.map((l) => `  dominated: ${l.trace}: swell ${l.swell}; ${l.by} ${l.baseline}`),
  ].join("\n");
}

export async function chartSvg(r: TraceResult): Promise<string> {
  const entries = Object.entries(r.policies);
  const first = entries[0]?.[1];
  const panels: Panel[] = [
    {
      title: "Load",
      yTitle: "requests/s",
      series: [
        { name: "arrivals", points: (first?.timeline ?? []).map((p) => ({ x: p.t, y: p.rps })) },
      ],
    },
    {
      title: "Ready replicas",
      yTitle: "replicas",
      step: true,
      series: entries.map(([name, m]) => ({
        name,
        points: m.timeline.map((p) => ({ x: p.t, y: p.ready })),
      })),
    },
    {
      title: "Queue",
      yTitle: "requests waiting",
      series: entries.map(([name, m]) => ({
        name,
        points: m.timeline.map((p) => ({ x: p.t, y: p.queue })),
      })),
    },
  ];
  return lineChartSvg({ title: `swell simulator: ${r.trace}`, xTitle: "time (s)", panels });
}
