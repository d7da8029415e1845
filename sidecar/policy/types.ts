import type { ScalingPolicySpec } from "../protocol/policy.ts";
import type { SignalName } from "../protocol/signals.ts";

/** The signals of one workload at one instant, summed over the pods that reported. */
export interface AggregatedPoint {
  /** ms: epoch in the controller, simulated time in the simulator. */
  t: number;
  /** Ready pods whose fresh report is included in `signals`. */
  pods: number;
  /**
   * Ready replicas of the workload at `t`, reporting or not, when the caller knows it. With it a
   * pod that stopped reporting counts at the reporting pods' average instead of as zero load;
   * without it the engine assumes a pod that reported within the previous 10 s is still there.
   */
  ready?: number;
  /** SUM over those pods. */
  signals: Partial<Record<SignalName, number>>;
}

/** A floor from the prescale API: at least `replicas` until `expiresAt` (ms). */
export interface PrescaleFloor {
  replicas: number;
  expiresAt: number;
  reason: string;
}

export interface TimedRecommendation {
  t: number;
  replicas: number;
}
export interface ScaleEvent {
  t: number;
  /** replicas added (> 0) or removed (< 0) */
  delta: number;
}
export interface PanicState {
  /** when panic began (ms) */
  since: number;
  /** last time short-window demand was over the threshold (ms) */
  lastOver: number;
  /** the largest size decided during this panic: panic never goes below it (Knative's maxPanicPods) */
  maxReplicas: number;
}

/** Requests one pod completes per second, measured while pods were saturated, at time t (ms). */
export interface ServiceRate {
  perPod: number;
  t: number;
}

/** What one call hands to the next. Plain JSON. */
export interface PolicyState {
  /** HPA's unstabilized recommendations, for the stabilization windows. */
  recommendations: TimedRecommendation[];
  /** Applied changes, for the rate policies (HPA's scaleUpEvents/scaleDownEvents). */
  scaleEvents: ScaleEvent[];
  panic?: PanicState;
  /** The backlog rule's last service rate measured while saturated. */
  serviceRate?: ServiceRate;
}

export interface DecideInput {
  policy: ScalingPolicySpec;
  /** Oldest first, possibly irregular spacing; at least historyHorizonMs(policy) of it. */
  history: readonly AggregatedPoint[];
  /** The target's spec.replicas now. */
  currentReplicas: number;
  readyReplicas: number;
  /** From the prescale API; expired ones are ignored. */
  floors?: readonly PrescaleFloor[];
  /** Returned by the previous call; undefined the first time. */
  state?: PolicyState;
  /** ms */
  now: number;
}

export type LimitedBy =
  | "maxReplicas"
  | "minReplicas"
  | "scaleUp.policies"
  | "scaleDown.policies"
  | "scaleUp.disabled"
  | "scaleDown.disabled"
  | "stabilization"
  | "tolerance"
  | "panic"
  | "backlog"
  | "drain"
  | "floor"
  | "noData"
  | "missingMetric"
  | "scaledToZero";

/**
 * The stages of a decision, in the order they run: bounds (only when the target is outside
 * [min, max] or scaled to 0), recommend, backlog, stabilize, then panic or rateLimit (panic is
 * present when the policy has it; rateLimit when not panicking), floors.
 */
export type StageName =
  | "bounds"
  | "recommend"
  | "backlog"
  | "stabilize"
  | "panic"
  | "rateLimit"
  | "floors";

/** What one stage proposed: plain JSON, as the decisions API serves it. */
export interface StageResult {
  stage: StageName;
  /** the size this stage hands on */
  replicas: number;
  /** set when this stage moved the size or held it back */
  limitedBy?: LimitedBy;
  /** for a person: the stage's numbers, or what it saw when it changed nothing */
  note: string;
}

/** What a stage found, before decide() names it: the size it hands on, what limited it, its notes. */
export interface StageOutcome {
  replicas: number;
  limitedBy?: LimitedBy;
  /** parts of the decision's reason; empty when the stage changed nothing worth saying */
  notes: string[];
  /** the stage's note when `notes` is empty: what it saw (kept out of the reason) */
  idle?: string;
}

export interface Decision {
  desiredReplicas: number;
  /** For a person: the numbers that led to it and which rule limited it. */
  reason: string;
  /** The rule that set the final number, when it was not the plain metric recommendation. */
  limitedBy?: LimitedBy;
  panic: boolean;
  dryRun: boolean;
  /** Hand back on the next call. */
  state: PolicyState;
  /** The metric-based recommendation before stabilization, rate policies, panic and floors. */
  recommendation?: number;
  /** Each stage's proposal, in order; the last one's `replicas` is `desiredReplicas`. */
  stages: StageResult[];
}
