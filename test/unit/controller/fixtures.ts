import type { Report } from "../../../sidecar/protocol/report.ts";

export const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

/** A valid report; override what a case is about. */
export function report(over: Partial<Report> = {}): Report {
  return {
    workload: { namespace: "default", kind: "Deployment", name: "worker" },
    pod: { name: "worker-abc", uid: "uid-1" },
    seq: 1,
    window: { start: T0 - 1000, end: T0 },
    app: "ready",
    signals: { requestRate: 10, queueLength: 2 },
    ...over,
  };
}
