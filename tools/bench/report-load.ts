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
export function reportBodies(
  fleet: SimulatedPods,
  now: () => number = Date.now,
  /** Every pod's first seq: a later load client starts above an earlier one's (a fresh process). */
  seqBase = 0,
): () => string {
  const seq = new Array<number>(fleet.pods).fill(seqBase);
  let next = 0;
  return () => {
    const i = next;
    next = (next + 1) % fleet.pods;
    const workload = fleet.workloads[i % fleet.workloads.length] as string;
    const end = now();
    const n = seq[i] ?? 0;
    seq[i] = n + 1;
    // A template, not JSON.stringify: the load client's CPU per report must stay small. The
    // names are [a-z0-9-] and the numbers finite, so nothing needs escaping.
    const rate = 20 + (i % 7);
    return `{"workload":{"namespace":"default","kind":"Deployment","name":"${workload}"},"pod":{"name":"${workload}-pod-${i}","uid":"uid-${i}"},"seq":${n},"window":{"start":${end - 1000},"end":${end}},"app":"ready","signals":{"requestRate":${rate},"inFlight":2,"completionRate":${rate},"rejectRate":0,"queueLength":0,"eventLoopLagSeconds":0.01}}`;
  };
}
