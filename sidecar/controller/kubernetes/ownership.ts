import {
  CoreV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  type V1OwnerReference,
} from "@kubernetes/client-node";
import type { Report } from "../../protocol/report.ts";
import type { Principal } from "../auth.ts";
import { apiMessage, apiUnavailable, isApiVerdict } from "./errors.ts";
import { TtlCache } from "./ttl-cache.ts";

export interface OwnershipOptions {
  /** How long an answer about one pod and one workload is reused. */
  cacheTtlMs: number;
  clock?: () => number;
  log: { warn(obj: object, msg: string): void };
}

// Pod → ReplicaSet → Deployment is two steps; leave room for an operator's kind on top.
const MAX_DEPTH = 4;

/** Whether a pod principal's pod belongs to a workload (namespace, kind, name). */
export type OwnershipCheck = (
  principal: Principal & { kind: "pod" },
  workload: { namespace: string; kind: string; name: string },
) => Promise<boolean>;

/**
 * Whether the token's pod belongs to the workload: the pod (matched by uid, so a new pod with an
 * old name does not count) is owned by it, found by following the controller ownerReferences
 * upwards (Pod → ReplicaSet → Deployment, Pod → StatefulSet, ...). Cached per pod and workload.
 */
export function podOwnership(kc: KubeConfig, opts: OwnershipOptions): OwnershipCheck {
  const core = kc.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const cache = new TtlCache<boolean>(10_000, opts.clock);

  const controllerOf = (refs: V1OwnerReference[] | undefined) => refs?.find((r) => r.controller);

  const owns: OwnershipCheck = async (principal, { namespace, kind, name }) => {
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

  return async (principal, workload) => {
    if (principal.namespace !== workload.namespace) return false;
    const key = `${principal.podUid}|${workload.kind}/${workload.name}`;
    const hit = cache.get(key);
    if (hit) return hit.value;
    try {
      const ok = await owns(principal, workload);
      cache.set(key, ok, opts.cacheTtlMs);
      return ok;
    } catch (err) {
      opts.log.warn(
        { err: apiMessage(err), pod: `${principal.namespace}/${principal.podName}` },
        "cannot tell which workload a pod belongs to",
      );
      // A pod or owner that is gone (404) or may not be read is a no; an API server that did
      // not answer is a "not now" (503), or an outage would read as every pod refused.
      if (isApiVerdict(err)) return false;
      throw apiUnavailable("tell which workload the pod belongs to");
    }
  };
}

/**
 * `mayReport` for Kubernetes: a pod's token may report only as that pod (name and uid), for the
 * workload that owns it.
 */
export function mayReportAsOwnPod(
  belongs: OwnershipCheck,
): (principal: Principal, report: Report) => Promise<boolean> {
  return async (principal, report) => {
    if (principal.kind === "shared") return true;
    if (principal.podName !== report.pod.name || principal.podUid !== report.pod.uid) return false;
    return belongs(principal, report.workload);
  };
}
