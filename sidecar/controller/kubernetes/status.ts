import type { Workload } from "../workload.ts";
import type { ResolvedPolicy } from "./resolve.ts";
import type { TargetTrouble } from "./scale-backend.ts";

export interface Condition {
  type: "AbleToScale" | "ScalingActive" | "ScalingLimited";
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

export interface PolicyStatus {
  observedGeneration?: number;
  currentReplicas?: number;
  readyReplicas?: number;
  desiredReplicas?: number;
  lastScaleTime?: string;
  lastReason?: string;
  leader?: string;
  conditions: Condition[];
}

// swell's limitedBy → the HPA's ScalingLimited reasons, where the HPA has one.
const LIMITED: Record<string, [reason: string, message: string]> = {
  maxReplicas: ["TooManyReplicas", "the desired replica count is more than maxReplicas"],
  minReplicas: ["TooFewReplicas", "the desired replica count is less than minReplicas"],
  "scaleUp.policies": [
    "ScaleUpLimit",
    "the desired replica count is increasing faster than the scaleUp policies allow",
  ],
  "scaleDown.policies": [
    "ScaleDownLimit",
    "the desired replica count is decreasing faster than the scaleDown policies allow",
  ],
  "scaleUp.disabled": ["ScaleUpDisabled", "scaleUp.selectPolicy is Disabled"],
  "scaleDown.disabled": ["ScaleDownDisabled", "scaleDown.selectPolicy is Disabled"],
};

/**
 * Pure: the status a ScalingPolicy should have, from what the controller knows of its workload,
 * conditions shaped like the HPA's (AbleToScale, ScalingActive, ScalingLimited). Without
 * lastTransitionTime: `withTransitions` adds it by comparing with the status written before.
 */
export function desiredStatus(
  r: ResolvedPolicy,
  w: Workload | undefined,
  trouble: TargetTrouble | undefined,
  leader: string | undefined,
): PolicyStatus {
  const generation = r.object.metadata?.generation;
  const base = { observedGeneration: generation, leader };
  if (r.invalid) {
    const message = `the policy is not used: ${r.invalid}`;
    return {
      ...base,
      conditions: [
        { type: "AbleToScale", status: "False", reason: "InvalidPolicy", message },
        { type: "ScalingActive", status: "False", reason: "InvalidPolicy", message },
        { type: "ScalingLimited", status: "False", reason: "InvalidPolicy", message },
      ],
    };
  }
  const last = w?.decisions.last;
  const able: Condition = r.conflict
    ? { type: "AbleToScale", status: "False", reason: "ConflictingAutoscaler", message: r.conflict }
    : trouble?.op === "get"
      ? {
          type: "AbleToScale",
          status: "False",
          reason: "FailedGetScale",
          message: `cannot read the target's scale: ${trouble.message}`,
        }
      : trouble?.conflict
        ? {
            type: "AbleToScale",
            status: "False",
            reason: "ScaleConflict",
            message: trouble.message,
          }
        : trouble
          ? {
              type: "AbleToScale",
              status: "False",
              reason: "FailedUpdateScale",
              message: `cannot update the target's scale: ${trouble.message}`,
            }
          : {
              type: "AbleToScale",
              status: "True",
              reason: "ReadyForNewScale",
              message: "the target's scale can be read and written",
            };

  const reporting = w?.lastAggregate?.pods ?? 0;
  const active: Condition =
    reporting > 0
      ? r.policy?.spec.mode === "dryRun"
        ? {
            type: "ScalingActive",
            status: "True",
            reason: "DryRun",
            message: "decides from the agents' reports but does not scale (mode: dryRun)",
          }
        : {
            type: "ScalingActive",
            status: "True",
            reason: "ValidMetricFound",
            message: "sizing from the agents' reports",
          }
      : {
          type: "ScalingActive",
          status: "False",
          reason: "NoReports",
          message: "no pod of the target has reported recently; holding the current size",
        };

  const limit = last?.limitedBy ? LIMITED[last.limitedBy] : undefined;
  const limited: Condition = limit
    ? { type: "ScalingLimited", status: "True", reason: limit[0], message: limit[1] }
    : {
        type: "ScalingLimited",
        status: "False",
        reason: "DesiredWithinRange",
        message: "the desired count is within the acceptable range",
      };

  return {
    ...base,
    currentReplicas: w?.scale?.replicas,
    readyReplicas: w?.scale?.readyReplicas,
    desiredReplicas: last?.desiredReplicas,
    lastScaleTime: w?.lastScaleTime
      ? new Date(w.lastScaleTime).toISOString()
      : (r.object.status?.lastScaleTime as string | undefined),
    lastReason: last?.reason,
    conditions: [able, active, limited],
  };
}

/** Keeps a condition's lastTransitionTime while its status stays; `now` for a new status. */
export function withTransitions(
  next: PolicyStatus,
  previous: PolicyStatus | undefined,
  now: string,
): PolicyStatus {
  return {
    ...next,
    conditions: next.conditions.map((c) => {
      const before = previous?.conditions?.find((p) => p.type === c.type);
      return {
        ...c,
        lastTransitionTime:
          before && before.status === c.status && before.lastTransitionTime
            ? before.lastTransitionTime
            : now,
      };
    }),
  };
}

/** Whether two statuses differ in anything but condition transition times. */
export function statusChanged(next: PolicyStatus, previous: PolicyStatus | undefined): boolean {
  return comparable(next) !== comparable(previous);
}

function comparable(s: PolicyStatus | undefined): string {
  if (!s) return "";
  const { conditions, ...rest } = s;
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  const conds = [...(conditions ?? [])]
    .map(({ type, status, reason, message }) => ({ type, status, reason, message }))
    .sort((a, b) => a.type.localeCompare(b.type));
  return JSON.stringify([fields, conds]);
}
