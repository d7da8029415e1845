/**
 * The policy state of a controller replica that does not write (a follower) and of one that just
 * started to (a new leader). Every replica decides on every tick so a new leader starts with
 * history, but only the leader's decisions are applied; these keep the state true to what was
 * applied, so that a handover neither repeats nor undoes a step. Pure, like decide().
 */
import type { PolicyState } from "./types.ts";

/**
 * The decision made at `now` was not applied (this replica does not lead, or the write failed):
 * the change decide() counted as its last scale event did not happen, and must not use up the
 * rate policies' budget of the leader this replica may become.
 */
export function notApplied(state: PolicyState, now: number): PolicyState {
  const last = state.scaleEvents.at(-1);
  if (!last || last.t !== now) return state;
  return { ...state, scaleEvents: state.scaleEvents.slice(0, -1) };
}

/**
 * The target's size changed by `delta` since this replica last read it, and not by its own
 * write: the leader applied a step. Counted as a scale event, so that as the next leader this
 * replica's rate policies know of it and do not take the same step again within their periods.
 */
export function appliedElsewhere(state: PolicyState, now: number, delta: number): PolicyState {
  if (delta === 0) return state;
  return { ...state, scaleEvents: [...state.scaleEvents, { t: now, delta }] };
}

/**
 * This replica has just become the leader, with the target at `currentReplicas`. What the previous
 * leader applied stands as a fresh recommendation, as the current size does for a decider that
 * starts (HPA: maybeInitScaleDownStabilizationWindow): a follower's own recommendations come from
 * the reports that reached it, which may be fewer than the leader's, and without this the new
 * leader could scale down within seconds what the old one had just scaled up.
 */
export function tookOver(state: PolicyState, now: number, currentReplicas: number): PolicyState {
  return {
    ...state,
    recommendations: [...state.recommendations, { t: now, replicas: currentReplicas }],
  };
}
