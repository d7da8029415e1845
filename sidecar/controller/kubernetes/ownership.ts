import {
  CoreV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  type V1OwnerReference,
} from "@kubernetes/client-node";
import type { Report } from "../../protocol/report.ts";
import type { Principal } from "../auth.ts";
import { apiMessage } from "./errors.ts";
import { TtlCache } from "./ttl-cache.ts";

export interface OwnershipOptions {
  /** How long an answer about one pod and one workload is reused. */
  cacheTtlMs: number;
  clock?: () => number;
  log: { warn(obj: object, msg: string): void };
}

// Pod → ReplicaSet → Deployment is two steps; leave room for an operator's kind on top.
const MAX_DEPTH = 4;

/**
 * `mayReport` for Kubernetes: a pod's token may report only as that pod (name and uid), in its
 * own namespace, for the workload that owns it, found by following the controller
 * ownerReferences upwards (Pod → ReplicaSet → Deployment, Pod → StatefulSet, ...).
 */
export function podOwnershipCheck(
  kc: KubeConfig,
  opts: OwnershipOptions,
): (principal: Principal, report: Report) => Promise<boolean> {
  const core = kc.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const cache = new TtlCache<boolean>(10_000, opts.clock);

  const controllerOf = (refs: V1OwnerReference[] | undefined) => refs?.find((r) => r.controller);

  const owns = async (principal: Principal & { kind: "pod" }, report: Report): Promise<boolean> => {
    const { namespace, kind, name } = report.workload;
    const pod = await core.readNamespacedPod({ name: principal.podName, namespace });
    if (pod.metadata?.uid !== principal.podUid) return false;
    let ref = controllerOf(pod.metadata?.ownerReferences);
    for (let depth = 0; ref && depth < MAX_DEPTH; depth++) {
      if (ref.kind === kind && ref.name === name) return true;
      const owner = await objects.read({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, namespace },
      });
      ref = controllerOf(owner.metadata?.ownerReferences);
    }
    return false;
  };

  return async (principal, report) => {
    if (principal.kind === "shared") return true;
    if (
      principal.namespace !== report.workload.namespace ||
      principal.podName !== report.pod.name ||
      principal.podUid !== report.pod.uid
    ) {
      return false;
    }
    const { kind, name } = report.workload;
    const key = `${principal.podUid}|${kind}/${name}`;
    const hit = cache.get(key);
    if (hit) return hit.value;
    try {
      const ok = await owns(principal, report);
      cache.set(key, ok, opts.cacheTtlMs);
      return ok;
    } catch (err) {
      opts.log.warn(
        { err: apiMessage(err), pod: `${principal.namespace}/${principal.podName}` },
        "cannot tell which workload a pod belongs to",
      );
      return false;
    }
  };
}
