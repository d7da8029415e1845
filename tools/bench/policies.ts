/**
 * A policies file with one ScalingPolicy per workload name, in the default namespace, for a
 * controller started by the benchmarks. Pure: returns the YAML text.
 */
export function policiesYaml(names: readonly string[]): string {
  return names
    .map(
      (name) => `apiVersion: scaling.swell.dev/v1alpha1
kind: ScalingPolicy
metadata: { name: ${name}, namespace: default }
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: ${name} }
  minReplicas: 1
  maxReplicas: 100
  metrics: [{ name: requestRate, averageValue: 50 }]
`,
    )
    .join("---\n");
}

/** `w-000` … : workload names that sort in order. */
export function workloadNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `w-${String(i).padStart(3, "0")}`);
}
