// The chart of a recorded real-node load run: the load (the profile's target rate and the 2xx
// answers per second the Job counted) and each workload's replicas (written by the scaler, and
// Ready) over the seconds since the load started, drawn by the project's chart code.
import type { Panel, Series } from "../chart/chart.ts";
import { rateAt } from "../load/profile.ts";
import type { RunFigures } from "./load-figures.ts";
import type { Recording } from "./load-timeline.ts";

/** The chart's panels. Pure. */
export function loadRunPanels(rec: Recording, f: RunFigures): Panel[] {
  const t = (atMs: number) => Math.round((atMs - f.loadStartMs) / 100) / 10;
  const load: Series[] = [];
  for (const [name, l] of Object.entries(f.load)) {
    const rps = l.log.rps ?? 0;
    const target = [];
    for (let s = 0; s <= f.durationS; s++) {
      target.push({ x: s, y: rateAt("spike", s, f.durationS, rps) });
    }
    load.push({ name: `${name} target`, points: target });
    const answered = [];
    const p = l.log.progress;
    for (let i = 1; i < p.length; i++) {
      const [a, b] = [p[i - 1], p[i]] as [(typeof p)[0], (typeof p)[0]];
      if (b.t > a.t) answered.push({ x: b.t, y: (b.ok - a.ok) / (b.t - a.t) });
    }
    load.push({ name: `${name} 2xx/s`, points: answered });
  }
  // One panel per workload: their lines would lie on top of each other in one.
  const replicas: Panel[] = Object.keys(f.workloads).map((w) => {
    const mine = rec.replicas.filter((s) => s.workload === w && s.atMs >= f.loadStartMs - 5_000);
    return {
      title: `${w} replicas (the Deployment's spec, as the scaler wrote it, and Ready)`,
      yTitle: "replicas",
      step: true,
      series: [
        { name: `${w} written`, points: mine.map((s) => ({ x: t(s.atMs), y: s.spec })) },
        { name: `${w} Ready`, points: mine.map((s) => ({ x: t(s.atMs), y: s.ready })) },
      ],
    };
  });
  return [{ title: "Load (requests/s)", yTitle: "requests/s", series: load }, ...replicas];
}

/** The chart as SVG and PNG (the chart libraries are loaded only here: dev dependencies). */
export async function loadRunChart(
  rec: Recording,
  f: RunFigures,
  title: string,
): Promise<{ svg: string; png: Buffer }> {
  const { lineChartSvg, svgToPng } = await import("../chart/chart.ts");
  const svg = await lineChartSvg({
    title,
    xTitle: "seconds since the load started",
    panels: loadRunPanels(rec, f),
  });
  return { svg, png: svgToPng(svg) };
}
