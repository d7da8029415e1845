import type { Report, Signals } from "../protocol/report.ts";
import { SIGNAL_NAMES } from "../protocol/signals.ts";

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
 */
export function aggregate(pods: Iterable<PodReport>, now: number, ttlMs: number): Aggregate {
  const sums: Record<string, number> = {};
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
    for (const name of SIGNAL_NAMES) {
      const v = report.signals[name];
      if (v !== undefined) sums[name] = (sums[name] ?? 0) + v;
    }
  }
  out.signals = sums as Signals;
  return out;
}
