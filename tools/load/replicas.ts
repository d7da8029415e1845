/** Replicas of each workload over a run, polled from the controller's API when it answers. */
export interface ReplicaSample {
  t: number;
  workload: string;
  ready: number | null;
  desired: number | null;
}

interface WorkloadsView {
  workloads: {
    namespace: string;
    name: string;
    readyReplicas: number | null;
    desiredReplicas: number | null;
  }[];
}

/** Polls `GET /v1/workloads` once a second until `signal` aborts; silent when nothing answers. */
export async function pollReplicas(
  controller: URL,
  startMs: number,
  signal: AbortSignal,
): Promise<ReplicaSample[]> {
  const samples: ReplicaSample[] = [];
  const url = new URL("/v1/workloads", controller);
  while (!signal.aborted) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(800) });
      if (res.ok) {
        const body = (await res.json()) as WorkloadsView;
        const t = (performance.now() - startMs) / 1000;
        for (const w of body.workloads) {
          samples.push({
            t,
            workload: `${w.namespace}/${w.name}`,
            ready: w.readyReplicas,
            desired: w.desiredReplicas,
          });
        }
      } else {
        await res.body?.cancel();
      }
    } catch {
      // no controller: the report simply has no replica series
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return samples;
}
