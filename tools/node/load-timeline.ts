// Records one load run on the real node, as it happens: each workload's replicas (the
// Deployment's spec, written by the scaler, and its Ready count) twice a second, its pods
// (created, first seen Ready, deleted), who answers `GET /` through its Service, the queue
// workloads' job counts (metrics while a pod lives, its `shutdown complete` line when it goes),
// and, once the load Job is done, its containers' logs. The figures are derived from this
// by load-figures.ts; the recorder only observes.
import { get } from "node:http";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  Log,
  type V1Pod,
} from "@kubernetes/client-node";

export interface ReplicaSample {
  atMs: number;
  workload: string;
  /** The Deployment's spec.replicas: what the scaler last wrote. */
  spec: number;
  ready: number;
}

export interface PodRecord {
  name: string;
  workload: string;
  /** Present when the recorder started (not one the load made). */
  before: boolean;
  /** creationTimestamp (second precision). */
  createdMs: number;
  /** The Ready condition's lastTransitionTime when it turned True (second precision). */
  readySinceMs?: number;
  /** When a poll first saw it Ready (within the poll period). */
  firstSeenReadyMs?: number;
  deletedMs?: number;
}

export interface Probe {
  atMs: number;
  workload: string;
  /** HTTP status, or 0 when no answer came. */
  status: number;
  /** Who answered (`pod` of `GET /`). */
  pod?: string;
}

/** A queue worker's own account of its jobs. */
export interface JobAccount {
  accepted: number;
  /** Completed or failed. */
  finished: number;
  failed: number;
  /** Dropped at shutdown (queued or running when the drain's deadline passed). */
  abandoned: number;
  queued: number;
  /** "shutdown": its `shutdown complete` line; "metrics": the last scrape of a live pod. */
  source: "shutdown" | "metrics";
}

export interface Recording {
  startedMs: number;
  stoppedMs: number;
  replicas: ReplicaSample[];
  pods: PodRecord[];
  probes: Probe[];
  /**
   * Per pod of the queue workloads; a pod with neither a scrape nor a shutdown line is absent
   * (one deleted before it was ever Ready got no traffic: the Service sends only to Ready pods).
   */
  jobs: Record<string, JobAccount>;
  /** The load Job's containers' logs, with the API's timestamps. */
  loadLogs: Record<string, string>;
}

export interface RecorderOptions {
  kc: KubeConfig;
  namespace: string;
  /** Deployments named like their pods' app.kubernetes.io/name label and their Service. */
  workloads: readonly string[];
  /** Workloads serving work_jobs_total and logging `shutdown complete` with job totals. */
  queueWorkloads: readonly string[];
  /** The load Job's name. */
  job: string;
  /** Port of the apps' /metrics. */
  metricsPort?: number;
  pollMs?: number;
  probeMs?: number;
  log?: (line: string) => void;
}

export interface Recorder {
  /** Waits until the load Job has finished (Complete or Failed), bounded by `timeoutMs`. */
  jobDone(timeoutMs: number): Promise<"Complete" | "Failed">;
  /** Stops observing; reads the Job's logs and the live workers' last counts. */
  stop(): Promise<Recording>;
  /** The latest sample of a workload's replicas. */
  latest(workload: string): ReplicaSample | undefined;
}

const isReady = (p: V1Pod) =>
  p.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True");

const ms = (d: Date | string | undefined) => (d ? new Date(d).getTime() : Number.NaN);

/** Counts of the kit's work queue in a Prometheus text page. Pure. */
export function queueCounts(metrics: string): Omit<JobAccount, "source" | "abandoned"> {
  const value = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? Number.NaN);
  const jobs = (outcome: string) =>
    value(new RegExp(`^work_jobs_total\\{[^}]*outcome="${outcome}"[^}]*\\} ([\\d.e+]+)$`, "m"));
  const completed = jobs("completed");
  const failed = jobs("failed");
  return {
    accepted: jobs("accepted"),
    finished: completed + failed,
    failed,
    queued: value(/^work_queue_length(?:\{[^}]*\})? ([\d.e+]+)$/m),
  };
}

/**
 * `GET /` on a connection of its own (no keep-alive): a pooled connection stays with the pod it
 * first reached, so only a new one shows which pods the Service spreads to now.
 */
function probe(url: string, timeoutMs: number): Promise<{ status: number; pod?: string }> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        let pod: string | undefined;
        try {
          pod = (JSON.parse(body) as { pod?: string }).pod;
        } catch {}
        resolve({ status: res.statusCode ?? 0, pod });
      });
      res.on("error", () => resolve({ status: 0 }));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve({ status: 0 }));
  });
}

/** Starts recording; `stop()` ends it. */
export async function startRecorder(o: RecorderOptions): Promise<Recorder> {
  const apps = o.kc.makeApiClient(AppsV1Api);
  const core = o.kc.makeApiClient(CoreV1Api);
  const log = o.log ?? (() => {});
  const pollMs = o.pollMs ?? 500;
  const probeMs = o.probeMs ?? 250;
  const metricsPort = o.metricsPort ?? 8080;
  const stopping = new AbortController();
  const rec: Recording = {
    startedMs: Date.now(),
    stoppedMs: 0,
    replicas: [],
    pods: [],
    probes: [],
    jobs: {},
    loadLogs: {},
  };
  const pods = new Map<string, PodRecord>();
  const ips = new Map<string, string>();
  const following = new Set<string>();
  const selector = `app.kubernetes.io/name in (${o.workloads.join(",")})`;

  const listPods = async () =>
    (await core.listNamespacedPod({ namespace: o.namespace, labelSelector: selector })).items;

  // The pods there now are the "before" ones: any other was made during the load.
  for (const p of await listPods()) {
    const name = p.metadata?.name ?? "";
    pods.set(name, {
      name,
      workload: p.metadata?.labels?.["app.kubernetes.io/name"] ?? "",
      before: true,
      createdMs: ms(p.metadata?.creationTimestamp),
    });
  }
  const services = new Map<string, string>();
  for (const w of o.workloads) {
    const svc = await core.readNamespacedService({ name: w, namespace: o.namespace });
    const ip = svc.spec?.clusterIP;
    if (!ip) throw new Error(`Service ${w} has no cluster IP`);
    services.set(w, `http://${ip}/`);
  }

  const followShutdown = async (pod: PodRecord) => {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (chunk: Buffer) => {
      if (stopping.signal.aborted) return;
      text += chunk.toString("utf8");
      const line = text.split("\n").find((l) => l.includes('"shutdown complete"'));
      if (!line) return;
      try {
        const j = JSON.parse(line) as Record<string, number>;
        rec.jobs[pod.name] = {
          accepted: j.accepted_total ?? Number.NaN,
          finished: j.finished_total ?? Number.NaN,
          failed: rec.jobs[pod.name]?.failed ?? 0,
          abandoned: j.abandoned ?? Number.NaN,
          queued: 0,
          source: "shutdown",
        };
      } catch {
        // not JSON after all: keep the metrics' count
      }
      text = "";
    });
    // Not aborted at stop (the client library rethrows the abort where nothing can catch
    // it): the stream ends with the container, and a line after stop() is ignored.
    await new Log(o.kc)
      .log(o.namespace, pod.name, pod.workload, stream, { follow: true })
      .catch(() => following.delete(pod.name)); // not started yet: the next poll tries again
  };

  const pollOnce = async () => {
    const now = Date.now();
    for (const w of o.workloads) {
      const d = await apps.readNamespacedDeployment({ name: w, namespace: o.namespace });
      rec.replicas.push({
        atMs: now,
        workload: w,
        spec: d.spec?.replicas ?? 0,
        ready: d.status?.readyReplicas ?? 0,
      });
    }
    const seen = new Set<string>();
    for (const p of await listPods()) {
      const name = p.metadata?.name ?? "";
      seen.add(name);
      let r = pods.get(name);
      if (!r) {
        r = {
          name,
          workload: p.metadata?.labels?.["app.kubernetes.io/name"] ?? "",
          before: false,
          createdMs: ms(p.metadata?.creationTimestamp),
        };
        pods.set(name, r);
      }
      if (p.status?.podIP) ips.set(name, p.status.podIP);
      const ready = isReady(p);
      if (ready && r.firstSeenReadyMs === undefined) {
        r.firstSeenReadyMs = now;
        r.readySinceMs = ms(ready.lastTransitionTime);
      }
      if (p.metadata?.deletionTimestamp && r.deletedMs === undefined) r.deletedMs = now;
      const started = p.status?.containerStatuses?.some(
        (c) => c.name === r.workload && c.state?.running,
      );
      if (o.queueWorkloads.includes(r.workload) && started && !following.has(name)) {
        following.add(name);
        void followShutdown(r);
      }
    }
    for (const r of pods.values()) if (!seen.has(r.name)) r.deletedMs ??= now;
  };

  const scrapeOnce = async () => {
    await Promise.all(
      [...pods.values()]
        .filter((p) => o.queueWorkloads.includes(p.workload) && ips.has(p.name))
        .filter((p) => rec.jobs[p.name]?.source !== "shutdown")
        .map(async (p) => {
          try {
            const res = await fetch(`http://${ips.get(p.name)}:${metricsPort}/metrics`, {
              signal: AbortSignal.timeout(1_500),
            });
            const c = queueCounts(await res.text());
            if (rec.jobs[p.name]?.source === "shutdown" || Number.isNaN(c.accepted)) return;
            rec.jobs[p.name] = { ...c, abandoned: 0, source: "metrics" };
          } catch {
            // gone or busy: its shutdown line or the next scrape counts
          }
        }),
    );
  };

  const probeOnce = async (w: string) => {
    const atMs = Date.now();
    const answer = await probe(services.get(w) as string, 2_000);
    rec.probes.push({ atMs, workload: w, ...answer });
  };

  const loop = async (everyMs: number, body: () => Promise<unknown>) => {
    while (!stopping.signal.aborted) {
      const t0 = Date.now();
      await body().catch((err: unknown) => log(`load timeline: ${(err as Error).message}`));
      await sleep(Math.max(0, everyMs - (Date.now() - t0)));
    }
  };
  const loops = [
    loop(pollMs, pollOnce),
    loop(1_000, scrapeOnce),
    ...o.workloads.map((w) =>
      // Probes do not wait for each other: a slow answer must not thin the sampling.
      loop(probeMs, async () => void probeOnce(w)),
    ),
  ];

  const jobPod = async () =>
    (
      await core.listNamespacedPod({
        namespace: o.namespace,
        labelSelector: `batch.kubernetes.io/job-name=${o.job}`,
      })
    ).items[0];

  return {
    latest: (w) => rec.replicas.findLast((s) => s.workload === w),
    async jobDone(timeoutMs) {
      const batch = o.kc.makeApiClient(BatchV1Api);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = await batch.readNamespacedJob({ name: o.job, namespace: o.namespace });
        const done = job.status?.conditions?.find(
          (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
        );
        if (done) return done.type as "Complete" | "Failed";
        if (Date.now() > deadline)
          throw new Error(`the load Job did not finish in ${timeoutMs} ms`);
        await sleep(1_000);
      }
    },
    async stop() {
      await scrapeOnce();
      stopping.abort();
      await Promise.all(loops);
      const p = await jobPod();
      for (const c of p?.spec?.containers ?? []) {
        rec.loadLogs[c.name] = await core
          .readNamespacedPodLog({
            name: p?.metadata?.name ?? "",
            namespace: o.namespace,
            container: c.name,
            timestamps: true,
          })
          .catch((err: Error) => `(no log: ${err.message})`);
      }
      rec.stoppedMs = Date.now();
      rec.pods = [...pods.values()];
      return rec;
    },
  };
}
