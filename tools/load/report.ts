import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Panel } from "../chart/chart.ts";
import type { LoadArgs } from "./args.ts";
import type { ReplicaSample } from "./replicas.ts";
import { type LoadStats, percentile } from "./stats.ts";

/** The per-second series of a run, as the JSON report and the chart show them. */
export function loadSeries(stats: LoadStats) {
  return stats.seconds.map((s) => {
    const sorted = [...s.latenciesMs].sort((a, b) => a - b);
    return {
      t: s.t,
      sent: s.sent,
      ok: s.ok,
      tooMany: s.tooMany,
      errors: s.errors,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
    };
  });
}

/** Panels of the load chart: what was sent and how it went, latency, and replicas when known. */
export function loadChartPanels(
  series: ReturnType<typeof loadSeries>,
  replicas: ReplicaSample[],
): Panel[] {
  const xy = (pick: (s: (typeof series)[number]) => number) =>
    series.filter((s) => Number.isFinite(pick(s))).map((s) => ({ x: s.t, y: pick(s) }));
  const panels: Panel[] = [
    {
      title: "Load (requests per second, by the second they were sent)",
      yTitle: "requests/s",
      series: [
        { name: "sent", points: xy((s) => s.sent) },
        { name: "2xx", points: xy((s) => s.ok) },
        { name: "429", points: xy((s) => s.tooMany) },
        { name: "errors", points: xy((s) => s.errors) },
      ],
    },
    {
      title: "Latency",
      yTitle: "ms",
      series: [
        { name: "p50", points: xy((s) => s.p50Ms) },
        { name: "p99", points: xy((s) => s.p99Ms) },
      ],
    },
  ];
  const workloads = [...new Set(replicas.map((r) => r.workload))];
  if (workloads.length > 0) {
    panels.push({
      title: "Replicas (from the controller)",
      yTitle: "replicas",
      step: true,
      series: workloads.flatMap((w) => {
        const mine = replicas.filter((r) => r.workload === w);
        return [
          {
            name: `${w} ready`,
            points: mine
              .filter((r) => r.ready !== null)
              .map((r) => ({ x: r.t, y: r.ready as number })),
          },
          {
            name: `${w} desired`,
            points: mine
              .filter((r) => r.desired !== null)
              .map((r) => ({ x: r.t, y: r.desired as number })),
          },
        ];
      }),
    });
  }
  return panels;
}

/** Writes load.json, load.svg and load.png into `dir`; returns the paths. */
export async function writeLoadReport(
  dir: string,
  args: LoadArgs,
  stats: LoadStats,
  replicas: ReplicaSample[],
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, "load.json");
  const report = {
    target: args.target.href,
    method: args.method,
    profile: args.profile,
    rps: args.rps,
    durationSeconds: args.durationS,
    totals: stats.totals(),
    seconds: loadSeries(stats),
    replicas,
  };
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  // The chart libraries are dev dependencies: loaded only for a report, so the load generator
  // itself runs from the production image (the k8s load Job).
  const { lineChartSvg, svgToPng } = await import("../chart/chart.ts");
  const svg = await lineChartSvg({
    title: `${args.method} ${args.target.pathname}: ${args.profile} to ${args.rps}/s`,
    xTitle: "seconds",
    panels: loadChartPanels(report.seconds, replicas),
  });
  const svgFile = path.join(dir, "load.svg");
  const pngFile = path.join(dir, "load.png");
  await writeFile(svgFile, svg);
  await writeFile(pngFile, svgToPng(svg));
  return [json, svgFile, pngFile];
}
