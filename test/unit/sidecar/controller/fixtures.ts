import type { Report } from "../../../../sidecar/protocol/report.ts";

export const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

/** A valid report; override what a case is about. */
export function report(over: Partial<Report> = {}): Report {
  return {
    workload: { namespace: "default", kind: "Deployment", name: "worker" },
    pod: { name: "worker-abc", uid: "uid-1" },
    seq: 1,
    window: { start: T0 - 1000, end: T0 },
    app: "ready",
    signals: { requestRate: 10, queueLength: 2 },
    ...over,
  };
}

/**
 * The worker's ScalingPolicy as YAML, as tests of the controller's API load it: 1..10 replicas on
 * requestRate 10 per pod, no scale-down window; `scaleUp` replaces the HPA's default rate limit.
 */
export function workerPolicyYaml(scaleUp?: string): string {
  return `
apiVersion: scaling.swell.dev/v1alpha1
kind: ScalingPolicy
metadata: { name: worker, namespace: default }
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: worker }
  minReplicas: 1
  maxReplicas: 10
  metrics: [{ name: requestRate, averageValue: 10 }]
  behavior:
    scaleDown: { stabilizationWindowSeconds: 0 }${scaleUp ? `\n    scaleUp: ${scaleUp}` : ""}
`;
}
