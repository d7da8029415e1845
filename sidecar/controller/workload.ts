import type { AggregatedPoint, PolicyState, PrescaleFloor, StageResult } from "../policy/index.ts";
import type { ScalingPolicy } from "../protocol/policy.ts";
import type { Aggregate, PodReport } from "./aggregate.ts";
import type { ScaleStatus, ScaleTarget } from "./backend.ts";
import { Ring } from "./ring.ts";

/** One decision as the API shows it: what was decided, why, and what happened to it. */
export interface DecisionRecord {
  at: number;
  currentReplicas: number;
  readyReplicas: number;
  desiredReplicas: number;
  reason: string;
  limitedBy?: string | undefined;
  /** What the metrics asked for, before stabilization, rate policies, panic and floors. */
  recommendation?: number | undefined;
  /** What each stage of the policy proposed, in order (recommend, backlog, stabilize, ...). */
  stages: StageResult[];
  panic: boolean;
  dryRun: boolean;
  /** Whether this decision was written to the backend (leader, enforce mode, a change). */
  applied: boolean;
  error?: string | undefined;
  leader: string | undefined;
}

export const DECISIONS_KEPT = 50;

/** Everything the controller knows of one scaled workload. Mutated only by the Controller. */
export class Workload {
  readonly key: string;
  policy: ScalingPolicy;
  /** Newest accepted report per pod uid. */
  readonly pods = new Map<string, PodReport>();
  history: AggregatedPoint[] = [];
  policyState: PolicyState | undefined;
  floors: PrescaleFloor[] = [];
  readonly decisions = new Ring<DecisionRecord>(DECISIONS_KEPT);
  lastAggregate: Aggregate | undefined;
  scale: ScaleStatus | undefined;
  lastScaleTime: number | undefined;
  /** Whether this replica led at its last decision (a takeover is the change to true). */
  leading = false;

  constructor(key: string, policy: ScalingPolicy) {
    this.key = key;
    this.policy = policy;
  }

  get namespace(): string {
    return this.policy.metadata.namespace ?? "default";
  }

  get target(): ScaleTarget {
    return { namespace: this.namespace, ...this.policy.spec.targetRef };
  }
}
