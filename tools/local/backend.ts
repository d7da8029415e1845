import {
  describeTarget,
  type ScaleBackend,
  type ScaleTarget,
} from "../../sidecar/controller/backend.ts";
import type { ProcessPool } from "./pool.ts";

/** The controller's scale backend for the local stack: each target is a pool of processes. */
export function localBackend(pools: ReadonlyMap<string, ProcessPool>): ScaleBackend {
  const poolOf = (t: ScaleTarget): ProcessPool => {
    const pool = pools.get(`${t.namespace}/${t.name}`);
    if (!pool || pool.spec.kind !== t.kind) {
      throw new Error(`the local stack runs no ${describeTarget(t)}`);
    }
    return pool;
  };
  return {
    name: "local",
    async get(t) {
      const pool = poolOf(t);
      return { replicas: pool.desired, readyReplicas: pool.ready };
    },
    async set(t, replicas) {
      poolOf(t).resize(replicas);
    },
  };
}
