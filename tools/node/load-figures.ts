// The figures of one recorded load run (load-timeline.ts), pure: when the surge began, and for
// each workload the three intervals a user waits through after it (the first scale write, the
// first new pod Ready, the first request a new pod answered), the replicas it went through,
// how its new pods started, and what the load and the queue workers counted.
import { type LoadLog, type LoadSummary, parseLoadLog, serverErrors } from "./load-log.ts";
import type { JobAccount, Recording } from "./load-timeline.ts";

/** The spike profile reaches its peak at this fraction of the run (tools/load/profile.ts). */
export const SPIKE_START = 0.2;

export interface ScaleWrite {
  atMs: number;
  from: number;
  to: number;
}

export interface WorkloadFigures {
  /** Replicas (spec) when the recording started. */
  startReplicas: number;
  maxReplicas: number;
  finalReplicas: number;
  finalReady: number;
  /** Every change of spec.replicas the polls saw, in order. */
  scaleWrites: ScaleWrite[];
  /** Seconds from the surge (undefined: it never happened). */
  firstScaleWriteS: number | undefined;
  firstNewReadyS: number | undefined;
  firstNewServedS: number | undefined;
  /** Pods made during the run, and those of them a probe through the Service reached. */
  newPods: string[];
  newPodsServing: string[];
  /** Of the new pods that became Ready: creationTimestamp to the Ready transition, seconds. */
  podStartS: number[];
  probes: { total: number; serverErrors: number; unanswered: number };
}

export interface JobTotals {
  accepted: number;
  finished: number;
  failed: number;
  abandoned: number;
  /**
   * Pods of the queue workloads that were Ready (so could take jobs) but have no account at
   * all (neither scraped nor drained). A pod never Ready took none: the Service skips it.
   */
  unaccounted: string[];
  /** Pods whose account is a live scrape that still had jobs queued or unfinished. */
  unsettled: string[];
}

export interface RunFigures {
  loadStartMs: number;
  surgeMs: number;
  durationS: number;
  workloads: Record<string, WorkloadFigures>;
  /** Per load container (named like its target workload). */
  load: Record<string, { log: LoadLog; summary: LoadSummary | undefined; serverErrors: number }>;
  jobs: JobTotals;
}

const seconds = (fromMs: number, toMs: number | undefined) =>
  toMs === undefined ? undefined : (toMs - fromMs) / 1000;

/** Changes of spec.replicas in a series of samples of one workload. Pure. */
export function scaleWrites(samples: readonly { atMs: number; spec: number }[]): ScaleWrite[] {
  const out: ScaleWrite[] = [];
  for (let i = 1; i < samples.length; i++) {
    const [a, b] = [samples[i - 1], samples[i]] as [(typeof samples)[0], (typeof samples)[0]];
    if (a.spec !== b.spec) out.push({ atMs: b.atMs, from: a.spec, to: b.spec });
  }
  return out;
}

/** Sums the queue workers' accounts. Pure. */
export function jobTotals(
  jobs: Record<string, JobAccount>,
  queuePods: readonly { name: string; everReady: boolean }[],
): JobTotals {
  const t: JobTotals = {
    accepted: 0,
    finished: 0,
    failed: 0,
    abandoned: 0,
    unaccounted: [],
    unsettled: [],
  };
  for (const { name, everReady } of queuePods) {
    const a = jobs[name];
    if (!a) {
      if (everReady) t.unaccounted.push(name);
      continue;
    }
    t.accepted += a.accepted;
    t.finished += a.finished;
    t.failed += a.failed;
    t.abandoned += a.abandoned;
    if (a.source === "metrics" && (a.queued > 0 || a.finished !== a.accepted)) {
      t.unsettled.push(name);
    }
  }
  return t;
}

/** The figures of a recording; `queueWorkloads` name those whose jobs are counted. */
export function runFigures(rec: Recording, queueWorkloads: readonly string[]): RunFigures {
  const load: RunFigures["load"] = {};
  for (const [container, text] of Object.entries(rec.loadLogs)) {
    const log = parseLoadLog(text);
    load[container] = {
      log,
      summary: log.summary,
      serverErrors: log.summary ? serverErrors(log.summary) : 0,
    };
  }
  const logs = Object.values(load).map((l) => l.log);
  const started = logs.map((l) => l.startedAtMs).filter((v): v is number => Number.isFinite(v));
  const durationS = logs.find((l) => l.durationS !== undefined)?.durationS ?? Number.NaN;
  if (started.length === 0 || !Number.isFinite(durationS)) {
    throw new Error("the load Job's logs have no `load: ...` start line");
  }
  const loadStartMs = Math.min(...started);
  const surgeMs = loadStartMs + SPIKE_START * durationS * 1000;

  const workloads: Record<string, WorkloadFigures> = {};
  for (const w of new Set(rec.replicas.map((s) => s.workload))) {
    const samples = rec.replicas.filter((s) => s.workload === w);
    const writes = scaleWrites(samples);
    const pods = rec.pods.filter((p) => p.workload === w);
    const fresh = pods.filter((p) => !p.before);
    const freshNames = new Set(fresh.map((p) => p.name));
    const probes = rec.probes.filter((p) => p.workload === w);
    const servedByNew = probes.filter((p) => p.status === 200 && p.pod && freshNames.has(p.pod));
    const readyTimes = fresh
      .map((p) => p.firstSeenReadyMs)
      .filter((v): v is number => v !== undefined);
    const last = samples.at(-1);
    workloads[w] = {
      startReplicas: samples[0]?.spec ?? 0,
      maxReplicas: Math.max(0, ...samples.map((s) => s.spec)),
      finalReplicas: last?.spec ?? 0,
      finalReady: last?.ready ?? 0,
      scaleWrites: writes,
      firstScaleWriteS: seconds(
        surgeMs,
        writes.find((s) => s.to > s.from && s.atMs >= loadStartMs)?.atMs,
      ),
      firstNewReadyS: seconds(surgeMs, readyTimes.length ? Math.min(...readyTimes) : undefined),
      firstNewServedS: seconds(surgeMs, servedByNew[0]?.atMs),
      newPods: fresh.map((p) => p.name),
      newPodsServing: [...new Set(servedByNew.map((p) => p.pod as string))],
      podStartS: fresh
        .filter((p) => p.readySinceMs !== undefined && Number.isFinite(p.readySinceMs))
        .map((p) => ((p.readySinceMs as number) - p.createdMs) / 1000),
      probes: {
        total: probes.length,
        serverErrors: probes.filter((p) => p.status >= 500).length,
        unanswered: probes.filter((p) => p.status === 0).length,
      },
    };
  }
  const queuePods = rec.pods
    .filter((p) => queueWorkloads.includes(p.workload))
    .map((p) => ({ name: p.name, everReady: p.before || p.firstSeenReadyMs !== undefined }));
  return {
    loadStartMs,
    surgeMs,
    durationS,
    workloads,
    load,
    jobs: jobTotals(rec.jobs, queuePods),
  };
}
