/**
 * The drain hold: no scale-down while the pods still hold a queue worth more than
 * `drain.queueSeconds` of work. Behind a Service each pod keeps its own queue; taking replicas
 * away while they drain sends each remaining pod more new arrivals, so what waits on it drains
 * slower (at its service rate minus its share of arrivals) and the wait stretches out.
 */
import type { ScalingPolicySpec } from "../protocol/policy.ts";
import { fmt } from "./format.ts";
import { totals } from "./series.ts";
import type { DecideInput, StageOutcome } from "./types.ts";

/** Seconds of work queued in the newest report (queue ÷ completions), when both are reported. */
export function queuedWorkSeconds(input: DecideInput, ready: number) {
  const { history, now, policy } = input;
  // Known values only: a pod that did not report adds nothing (this rule only ever holds).
  const queue = totals(history, "queueLength", ready, 0).at(-1);
  const done = totals(history, "completionRate", ready, 0).at(-1);
  if (!queue || !done || queue.t !== done.t) return undefined;
  if (now - queue.t > policy.staleAfterSeconds * 1000 || queue.v <= 0) return undefined;
  return { queued: queue.v, perSecond: done.v, seconds: done.v > 0 ? queue.v / done.v : Infinity };
}

/** The stabilize stage's outcome, held at the current size while a queue drains. */
export function drainHold(
  rules: NonNullable<ScalingPolicySpec["drain"]>,
  stabilized: StageOutcome,
  input: DecideInput,
  ready: number,
): StageOutcome {
  const current = input.currentReplicas;
  if (stabilized.replicas >= current) return stabilized;
  const work = queuedWorkSeconds(input, ready);
  if (!work || work.seconds <= rules.queueSeconds) return stabilized;
  const held = Number.isFinite(work.seconds)
    ? `${fmt(work.seconds)}s of work at ${fmt(work.perSecond)}/s completed`
    : "nothing completed";
  return {
    replicas: current,
    limitedBy: "drain",
    notes: [
      ...stabilized.notes,
      `drain: no scale-down to ${stabilized.replicas} while ${fmt(work.queued)} queued (${held} > ${rules.queueSeconds}s)`,
    ],
  };
}
