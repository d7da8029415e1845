import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { Counter, type Registry } from "prom-client";
import {
  describeTarget,
  type ScaleBackend,
  type ScaleStatus,
  type ScaleTarget,
} from "../backend.ts";
import type { Discovery } from "./discovery.ts";
import { apiMessage, apiStatus } from "./errors.ts";

/** A scale write refused because the target changed since it was read (HTTP 409). */
export class ScaleConflictError extends Error {
  constructor(target: ScaleTarget) {
    super(`${describeTarget(target)} changed since it was read; it is read again next tick`);
    this.name = "ScaleConflictError";
  }
}

/** What went wrong last with a target, until the next success (for status conditions). */
export interface TargetTrouble {
  op: "get" | "set";
  message: string;
  conflict: boolean;
}

interface Scale {
  metadata?: { resourceVersion?: string };
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

const key = (t: ScaleTarget) => `${t.namespace}/${t.apiVersion}/${t.kind}/${t.name}`;

/**
 * The target's /scale subresource, for any kind that has one (Deployment, StatefulSet, a custom
 * resource): the kind is resolved by discovery, so nothing here knows Deployments.
 *
 * Optimistic concurrency: `set` writes with the resourceVersion that the last `get` of the same
 * target read, so a change made meanwhile (a person, another autoscaler) makes it fail with 409
 * rather than be overwritten; the controller reads again and decides again at the next tick.
 */
export function kubernetesScaleBackend(
  kc: KubeConfig,
  discovery: Discovery,
  registry: Registry,
): ScaleBackend & { trouble(target: ScaleTarget): TargetTrouble | undefined } {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const conflicts = new Counter({
    name: "swell_scale_conflicts_total",
    help: "Scale writes refused with 409 because the target changed since it was read.",
    labelNames: ["workload"] as const,
    registers: [registry],
  });
  const read = new Map<string, Scale>();
  const troubles = new Map<string, TargetTrouble>();

  const locate = async (t: ScaleTarget) => {
    const r = await discovery.resolve(t.apiVersion, t.kind);
    if (!r.scalable) throw new Error(`${t.kind} in ${t.apiVersion} has no /scale subresource`);
    return {
      group: r.group,
      version: r.version,
      plural: r.plural,
      namespace: t.namespace,
      name: t.name,
    };
  };

  const get = async (t: ScaleTarget): Promise<ScaleStatus> => {
    try {
      const where = await locate(t);
      const [scale, object] = await Promise.all([
        custom.getNamespacedCustomObjectScale(where) as Promise<Scale>,
        custom.getNamespacedCustomObject(where) as Promise<{
          status?: { readyReplicas?: unknown };
        }>,
      ]);
      read.set(key(t), scale);
      troubles.delete(key(t));
      const replicas = scale.spec?.replicas ?? 0;
      // /scale has no readiness; Deployments, StatefulSets and most operators' kinds carry
      // status.readyReplicas. Without it, count what the scale status says exists.
      const ready = object.status?.readyReplicas;
      return {
        replicas,
        readyReplicas: typeof ready === "number" ? ready : (scale.status?.replicas ?? replicas),
      };
    } catch (err) {
      troubles.set(key(t), { op: "get", message: apiMessage(err), conflict: false });
      throw err;
    }
  };

  return {
    name: "kubernetes",
    get,
    async set(t, replicas) {
      try {
        let scale = read.get(key(t));
        if (!scale) {
          await get(t);
          scale = read.get(key(t)) ?? {};
        }
        const where = await locate(t);
        const written = (await custom.replaceNamespacedCustomObjectScale({
          ...where,
          body: {
            apiVersion: "autoscaling/v1",
            kind: "Scale",
            metadata: {
              name: t.name,
              namespace: t.namespace,
              resourceVersion: scale.metadata?.resourceVersion,
            },
            spec: { replicas },
          },
        })) as Scale;
        read.set(key(t), written);
        troubles.delete(key(t));
      } catch (err) {
        // The version read is spent either way: the next write must follow a fresh read.
        read.delete(key(t));
        if (apiStatus(err) === 409) {
          conflicts.inc({ workload: `${t.namespace}/${t.name}` });
          const conflict = new ScaleConflictError(t);
          troubles.set(key(t), { op: "set", message: conflict.message, conflict: true });
          throw conflict;
        }
        troubles.set(key(t), { op: "set", message: apiMessage(err), conflict: false });
        throw err;
      }
    },
    trouble: (t) => troubles.get(key(t)),
  };
}
