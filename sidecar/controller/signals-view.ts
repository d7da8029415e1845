import type { Signals } from "../protocol/report.ts";
import { aggregate, type PodReport } from "./aggregate.ts";

/** One pod's fresh signals, as the metrics API serves them. */
export interface PodSignals {
  name: string;
  uid: string;
  /** End of the window the signals cover, ms since the epoch (the agent's clock). */
  at: number;
  windowMs: number;
  signals: Signals;
}

/** One workload's fresh signals: per pod, and summed over those pods (what the policy sees). */
export interface WorkloadSignals {
  namespace: string;
  kind: string;
  name: string;
  /** Whether a ScalingPolicy targets it (else its reports are kept for the metrics API only). */
  policy: boolean;
  pods: PodSignals[];
  signals: Signals;
}

/**
 * The fresh signals of one workload, chosen by the same rule as the policy's aggregate: a report
 * older than the TTL, or from an app that was not ready or not reachable, is absent (never 0).
 */
export function workloadSignals(
  ref: { namespace: string; kind: string; name: string; policy: boolean },
  pods: Iterable<PodReport>,
  now: number,
  ttlMs: number,
): WorkloadSignals {
  const fresh = [...pods].filter((p) => now - p.receivedAt <= ttlMs && p.report.app === "ready");
  return {
    ...ref,
    pods: fresh.map(({ report }) => ({
      name: report.pod.name,
      uid: report.pod.uid,
      at: report.window.end,
      windowMs: report.window.end - report.window.start,
      signals: report.signals,
    })),
    signals: aggregate(fresh, now, ttlMs).signals,
  };
}
