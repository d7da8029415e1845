import type { ScaleBackend } from "./backend.ts";

/**
 * A backend that only remembers what it was told: every replica is "ready" at once. For trying
 * the API without a cluster, for benchmarks of the controller alone, and for tests that are
 * about decisions rather than processes.
 */
export function memoryBackend(initial: Record<string, number> = {}): ScaleBackend & {
  replicas: Map<string, number>;
} {
  const replicas = new Map(Object.entries(initial));
  const key = (t: { namespace: string; name: string }) => `${t.namespace}/${t.name}`;
  return {
    name: "memory",
    replicas,
    async get(t) {
      const n = replicas.get(key(t)) ?? 1;
      return { replicas: n, readyReplicas: n };
    },
    async set(t, n) {
      replicas.set(key(t), n);
    },
  };
}
