import type { ProcessPool } from "./pool.ts";

/** The path where the local stack lists its scrape targets (Prometheus HTTP service discovery). */
export const TARGETS_PATH = "/local/prometheus/targets";

/** One target group of Prometheus's http_sd_configs format. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * Every replica's app and agent, and the controller, as Prometheus's HTTP service discovery
 * wants them, labelled like k8s/components/monitoring labels its targets in a cluster (`service`,
 * `namespace`, `pod`, and `app` on an agent), so the same dashboard and alerts read both.
 */
export function prometheusTargets(
  pools: Iterable<ProcessPool>,
  controller: { host: string; port: number },
): TargetGroup[] {
  const groups: TargetGroup[] = [
    {
      targets: [`${controller.host}:${controller.port}`],
      labels: { service: "swell-controller", pod: "controller" },
    },
  ];
  for (const pool of pools) {
    const { name, namespace } = pool.spec;
    for (const r of pool.list()) {
      groups.push(
        { targets: [`127.0.0.1:${r.port}`], labels: { service: name, namespace, pod: r.id } },
        {
          targets: [`127.0.0.1:${r.agentPort}`],
          labels: { service: "swell-agent", app: name, namespace, pod: r.id },
        },
      );
    }
  }
  return groups;
}
