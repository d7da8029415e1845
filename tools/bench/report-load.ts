import type { RequestSpec } from "autocannon";
import { REPORTS_PATH } from "../../sidecar/protocol/report.ts";

export interface SimulatedPods {
  pods: number;
  workloads: readonly string[];
}

/**
 * The body of each next report from a fleet of simulated pods, round robin: pod i belongs to
 * workload i mod W, and each pod's seq increases by one per report with a window that ends
 * now, as a live agent's would. Signals hold steady per pod (a fleet at a steady load), so
 * after each pod's first report the controller decides on its tick, not on every report.
 */
export function reportBodies(fleet: SimulatedPods, now: () => number = Date.now): () => string {
  const seq = new Array<number>(fleet.pods).fill(0);
  let next = 0;
  return () => {
    const i = next;
    next = (next + 1) % fleet.pods;
    const workload = fleet.workloads[i % fleet.workloads.length] as string;
    const end = now();
    const n = seq[i] ?? 0;
    seq[i] = n + 1;
    return JSON.stringify({
      workload: { namespace: "default", kind: "Deployment", name: workload },
      pod: { name: `${workload}-pod-${i}`, uid: `uid-${i}` },
      seq: n,
      window: { start: end - 1000, end },
      app: "ready",
      signals: {
        requestRate: 20 + (i % 7),
        inFlight: 2,
        completionRate: 20 + (i % 7),
        rejectRate: 0,
        queueLength: 0,
        eventLoopLagSeconds: 0.01,
      },
    });
  };
}

/** An autocannon request that posts the next report each time. */
export function reportRequest(token: string, fleet: SimulatedPods): RequestSpec {
  const body = reportBodies(fleet);
  return {
    method: "POST",
    path: REPORTS_PATH,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    setupRequest: (req) => ({ ...req, body: body() }),
  };
}
