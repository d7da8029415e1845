import { readFileSync } from "node:fs";
import path from "node:path";

/** The Grafana dashboard the monitoring component ships. */
export const DASHBOARD_FILE = path.resolve(
  import.meta.dirname,
  "../../k8s/components/monitoring/dashboards/swell.json",
);

export interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

export function readDashboard(): {
  json: { panels: Panel[]; templating: { list: { name: string; query?: unknown }[] } } & Record<
    string,
    unknown
  >;
  queries: { panel: Panel; target: Target }[];
} {
  const json = JSON.parse(readFileSync(DASHBOARD_FILE, "utf8"));
  const queries = (json.panels as Panel[]).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p, target: t })),
  );
  return { json, queries };
}

/** A dashboard query as Prometheus runs it: Grafana's variables given their "All" values. */
export function concrete(expr: string, rateInterval = "1m"): string {
  return expr
    .replaceAll("$__rate_interval", rateInterval)
    .replaceAll("$service", ".*")
    .replaceAll("$workload", ".*");
}
