import { formatPolicyIssues, ScalingPolicy } from "../../protocol/policy.ts";

/** A ScalingPolicy object as the API server stores it (status and all). */
export interface PolicyObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    creationTimestamp?: Date | string;
  };
  spec?: unknown;
  status?: Record<string, unknown>;
}

/** What matters of an HPA here: which workload it scales. */
export interface HpaRef {
  namespace: string;
  name: string;
  target: { apiVersion: string; kind: string; name: string };
}

export interface ResolvedPolicy {
  object: PolicyObject;
  /** The parsed policy, when valid. */
  policy?: ScalingPolicy;
  /** Why the object is not used at all (schema problems the CRD could not catch). */
  invalid?: string;
  /** Why swell must not scale its target (another autoscaler targets it too). */
  conflict?: string;
}

export interface Resolution {
  /** What the controller runs: one policy per workload; conflicting ones only in dryRun. */
  effective: ScalingPolicy[];
  /** Every object, keyed by uid, with what was found wrong with it. */
  byUid: Map<string, ResolvedPolicy>;
}

const group = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");

/**
 * Pure: from the ScalingPolicy objects and HPAs of the cluster, the policies the controller runs
 * and what is wrong with each object. Two autoscalers on one workload fight (each undoes the
 * other's writes), so a workload targeted by an HPA or by several ScalingPolicies is decided on
 * (its status stays informative) but never scaled: its policy runs in dryRun.
 */
export function resolvePolicies(
  objects: readonly PolicyObject[],
  hpas: readonly HpaRef[],
): Resolution {
  const byUid = new Map<string, ResolvedPolicy>();
  const byWorkload = new Map<string, ResolvedPolicy[]>();
  for (const object of objects) {
    const uid = object.metadata?.uid ?? `${object.metadata?.namespace}/${object.metadata?.name}`;
    const parsed = ScalingPolicy.safeParse({
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: { name: object.metadata?.name, namespace: object.metadata?.namespace },
      spec: object.spec,
    });
    if (!parsed.success) {
      byUid.set(uid, { object, invalid: formatPolicyIssues(parsed.error).join("; ") });
      continue;
    }
    const r: ResolvedPolicy = { object, policy: parsed.data };
    byUid.set(uid, r);
    const key = `${parsed.data.metadata.namespace ?? "default"}/${parsed.data.spec.targetRef.name}`;
    byWorkload.set(key, [...(byWorkload.get(key) ?? []), r]);
  }

  const effective: ScalingPolicy[] = [];
  for (const [key, list] of byWorkload) {
    // Oldest first, so the one that runs (in dryRun) stays the same as others come and go.
    list.sort((a, b) => created(a) - created(b) || name(a).localeCompare(name(b)));
    const first = list[0];
    if (!first?.policy) continue;
    const target = first.policy.spec.targetRef;
    const namespace = key.slice(0, key.indexOf("/"));
    const hpa = hpas.find(
      (h) =>
        h.namespace === namespace &&
        h.target.name === target.name &&
        h.target.kind === target.kind &&
        group(h.target.apiVersion) === group(target.apiVersion),
    );
    for (const r of list) {
      const others = list.filter((o) => o !== r).map(name);
      if (hpa) {
        r.conflict = `HorizontalPodAutoscaler ${hpa.name} also targets ${target.kind} ${target.name}; swell leaves it alone`;
      } else if (others.length > 0) {
        r.conflict = `ScalingPolicy ${others.join(", ")} also targets ${target.kind} ${target.name}; swell scales it with none of them`;
      }
    }
    effective.push(
      first.conflict
        ? { ...first.policy, spec: { ...first.policy.spec, mode: "dryRun" } }
        : first.policy,
    );
  }
  return { effective, byUid };
}

function created(r: ResolvedPolicy): number {
  const t = r.object.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}
function name(r: ResolvedPolicy): string {
  return r.object.metadata?.name ?? "";
}
