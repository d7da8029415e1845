import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
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

/** Writes load.json (and the chart, when one can be drawn) into `dir`; returns the paths. */
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
  return [json];
}
