/** Presenting a simulation: the terminal table, the JSON object and the chart. */
import { lineChartSvg, type Panel } from "../chart/chart.ts";
import type { PolicyName, PolicyResult, SimOptions } from "./run.ts";

export interface TraceResult {
  trace: string;
  seconds: number;
  policies: Partial<Record<PolicyName, PolicyResult>>;
}

/** The acceptance bar of the simulator (issue 3): swell's SLO violations ≤ hpa's and kpa's, replica-seconds ≤ 1.25 × oracle's. */
export const ORACLE_FACTOR = 1.25;

export interface Verdict {
  pass: boolean;
  lines: string[];
}

export function verdict(r: TraceResult): Verdict | undefined {
  const { swell, hpa, kpa, oracle } = r.policies;
  if (!swell || !hpa || !kpa || !oracle) return undefined;
  const checks = [
    [
      swell.sloViolationSeconds <= hpa.sloViolationSeconds,
      `SLO violation ${swell.sloViolationSeconds}s <= hpa ${hpa.sloViolationSeconds}s`,
    ],
    [
      swell.sloViolationSeconds <= kpa.sloViolationSeconds,
      `SLO violation ${swell.sloViolationSeconds}s <= kpa ${kpa.sloViolationSeconds}s`,
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

/** The --json object: {"trace", "policies": {name: {metrics..., timeline}}}. */
export function jsonObject(r: TraceResult): {
  trace: string;
  policies: Partial<Record<PolicyName, PolicyResult>>;
} {
  return { trace: r.trace, policies: r.policies };
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
