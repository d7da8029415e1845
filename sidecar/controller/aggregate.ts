import type { Report, Signals } from "../protocol/report.ts";

/** What the controller remembers of one pod: its newest accepted report. */
export interface PodReport {
  report: Report;
  /** Controller clock when the report arrived, ms. Freshness is judged on this, not on the
   * agent's clock, so skew between nodes cannot make a pod look fresh or stale. */
  receivedAt: number;
}

/** One aggregated observation of a workload: the sum over fresh, ready pods. */
export interface Aggregate {
  t: number;
  /** Ready pods whose fresh report is included in `signals`. */
  pods: number;
  signals: Signals;
  /** Fresh reports whose app was not ready, or not reachable by its agent. */
  notReady: number;
  unreachable: number;
  /** Pods whose newest report is older than the TTL (they are not counted as zero load). */
  expired: number;
}

/**
 * Sums the signals of the pods that reported recently and whose app was ready. A pod that went
 * silent is left out rather than read as zero: the policy extrapolates from the pods it sees.
 *
 * One named read per signal, not a loop over the names: every workload is aggregated each tick,
 * and the keyed reads (`signals[name]`) over thousands of reports cost three to four times as
 * much (a loop of 1,000 workloads × 50 pods here: 36 µs a workload against 9-14). The test
 * sums each of SIGNAL_NAMES, so a signal added there and not here fails it.
 */
export function aggregate(pods: Iterable<PodReport>, now: number, ttlMs: number): Aggregate {
  let requestRate = 0;
  let queueLength = 0;
  let inFlight = 0;
  let completionRate = 0;
  let rejectRate = 0;
  let eventLoopLagSeconds = 0;
  // Which signals some counted pod reported: a signal no pod has stays absent, not 0.
  let seen = 0;
  const out: Aggregate = { t: now, pods: 0, signals: {}, notReady: 0, unreachable: 0, expired: 0 };
  for (const { report, receivedAt } of pods) {
    if (now - receivedAt > ttlMs) {
      out.expired++;
      continue;
    }
    if (report.app === "unreachable") {
      out.unreachable++;
      continue;
    }
    if (report.app === "notReady") {
      out.notReady++;
      continue;
    }
    out.pods++;
    const s = report.signals;
    if (s.requestRate !== undefined) {
      requestRate += s.requestRate;
      seen |= 1;
    }
    if (s.queueLength !== undefined) {
      queueLength += s.queueLength;
      seen |= 2;
    }
    if (s.inFlight !== undefined) {
      inFlight += s.inFlight;
      seen |= 4;
    }
    if (s.completionRate !== undefined) {
      completionRate += s.completionRate;
      seen |= 8;
    }
    if (s.rejectRate !== undefined) {
      rejectRate += s.rejectRate;
      seen |= 16;
    }
    if (s.eventLoopLagSeconds !== undefined) {
      eventLoopLagSeconds += s.eventLoopLagSeconds;
      seen |= 32;
    }
  }
  const sums: Signals = {};
  if (seen & 1) sums.requestRate = requestRate;
  if (seen & 2) sums.queueLength = queueLength;
  if (seen & 4) sums.inFlight = inFlight;
  if (seen & 8) sums.completionRate = completionRate;
  if (seen & 16) sums.rejectRate = rejectRate;
  if (seen & 32) sums.eventLoopLagSeconds = eventLoopLagSeconds;
  out.signals = sums;
  return out;
}
