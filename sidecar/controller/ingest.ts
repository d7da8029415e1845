import type { Report } from "../protocol/report.ts";
import type { PodReport } from "./aggregate.ts";

export interface IngestLimits {
  /** A report whose window ended longer ago than this is stale. */
  maxAgeMs: number;
  /** A report whose window ends further in the future than this is refused (clock skew). */
  maxSkewMs: number;
}

export type IngestVerdict =
  | { ok: true }
  | { ok: false; status: 409 | 422; title: string; detail: string };

/**
 * Decides whether a schema-valid report may be taken, given the pod's previous report. Pure:
 * the caller stores the report only on `ok`, so a refused report changes nothing.
 *
 * Replays and reordering are refused by sequence number. An agent that restarts inside the same
 * pod starts again at a low seq, so a lower seq is still taken when its window is newer than
 * the last one seen: a replayed report cannot carry a newer window without also being fresh.
 */
export function checkReport(
  report: Report,
  previous: PodReport | undefined,
  now: number,
  limits: IngestLimits,
): IngestVerdict {
  if (report.window.end < now - limits.maxAgeMs) {
    return {
      ok: false,
      status: 422,
      title: "Stale report",
      detail: `window.end is ${now - report.window.end} ms old; reports older than ${limits.maxAgeMs} ms are refused`,
    };
  }
  if (report.window.end > now + limits.maxSkewMs) {
    return {
      ok: false,
      status: 422,
      title: "Report from the future",
      detail: `window.end is ${report.window.end - now} ms ahead of the controller's clock (at most ${limits.maxSkewMs} ms)`,
    };
  }
  if (previous) {
    const last = previous.report;
    const newerWindow = report.window.end > last.window.end;
    if (report.seq <= last.seq && !newerWindow) {
      return {
        ok: false,
        status: 409,
        title: "Replayed or out-of-order report",
        detail: `seq ${report.seq} is not after ${last.seq} for pod ${report.pod.name}`,
      };
    }
    if (report.seq > last.seq && report.window.end < last.window.end) {
      return {
        ok: false,
        status: 409,
        title: "Out-of-order report",
        detail: `seq ${report.seq} covers a window that ends before the one already taken`,
      };
    }
  }
  return { ok: true };
}
