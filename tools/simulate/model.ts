/**
 * The simulated service: a deterministic discrete-time model (fixed step, default 100 ms).
 *
 * - Arrivals per second come from the trace (constant within each second).
 * - Each ready replica serves `serviceRate` requests per second.
 * - Two ways requests reach replicas (`balancing`):
 *   - `perPod`: behind a Kubernetes Service, each pod has its own FIFO queue and new requests are
 *     spread round robin over the ready pods (kube-proxy's endpoints are the ready pods). A pod
 *     that becomes ready starts with an empty queue and takes its share of new arrivals only;
 *     what waits on the busy pods stays there. Beyond `podQueueCap` a pod refuses the newest.
 *   - `shared`: one FIFO queue in front of all ready pods (Knative's activator buffer, or an ideal
 *     balancer); beyond `queueCap` the newest requests are dropped.
 * - A replica created by a scale-up is ready `coldStartSeconds` later; a scale-down removes the
 *   youngest replicas first (those still starting, then ready ones), at once; a removed ready pod
 *   with its own queue stops receiving requests and drains what it holds (graceful termination),
 *   no longer counted in spec.replicas.
 * - Queueing delay is the age of the oldest waiting request anywhere; a step whose delay exceeds
 *   the SLO, or in which a request was dropped (its latency is unbounded), counts as violation time.
 * Before t = 0 every run has a warm-up at the trace's first rate, so each autoscaler starts from
 * its own steady state; nothing in the warm-up is counted.
 */

import { PerPodPool, type Pool, SharedPool } from "./pools.ts";
import { ChunkQueue } from "./queue.ts";

export interface ModelOptions {
  serviceRate: number;
  coldStartSeconds: number;
  sloMs: number;
  queueCap: number;
  stepMs: number;
  warmupSeconds: number;
  /** default `shared` */
  balancing?: "shared" | "perPod";
  /** requests one pod's own queue holds (perPod); default 200 */
  podQueueCap?: number;
}

/** What an autoscaler may look at, at the end of a step. Times are ms of simulated time. */
export interface ClusterView {
  readonly now: number;
  readonly spec: number;
  readonly ready: number;
  readonly queue: number;
  /** requests that arrived / were served / were dropped in (from, to] (step granularity) */
  arrived(from: number, to: number): number;
  served(from: number, to: number): number;
  dropped(from: number, to: number): number;
  /** ∫ requests waiting dt over (from, to], in request-seconds */
  waited(from: number, to: number): number;
}

/** Called at the end of every step; returns the new spec.replicas, or undefined to leave it. */
export type Autoscaler = (view: ClusterView) => number | undefined;

export interface TimelinePoint {
  t: number;
  replicas: number;
  ready: number;
  queue: number;
  rps: number;
}

export interface RunMetrics {
  /** ∫ spec.replicas dt: what you pay, starting replicas included */
  replicaSeconds: number;
  /** ∫ ready replicas dt */
  readyReplicaSeconds: number;
  sloViolationSeconds: number;
  dropped: number;
  maxQueue: number;
  scaleActions: number;
  reversals: number;
  /** from the first rise of the trace to the first scale-up (negative: ahead of it) */
  firstScaleUpSeconds: number | null;
  timeline: TimelinePoint[];
}

export { ChunkQueue };

/** Arrival rate (per second) at simulated time `t` ms; the warm-up repeats the first second. */
export function rateAt(rps: readonly number[], t: number): number {
  if (t < 0) return rps[0] ?? 0;
  return rps[Math.floor(t / 1000)] ?? 0;
}

export function runModel(
  rps: readonly number[],
  scaler: Autoscaler,
  initialReplicas: number,
  o: ModelOptions,
): RunMetrics {
  const dt = o.stepMs;
  const warmSteps = Math.round((o.warmupSeconds * 1000) / dt);
  const steps = warmSteps + Math.round((rps.length * 1000) / dt);
  const coldMs = o.coldStartSeconds * 1000;
  // cumulative per step, index i covers step i (time t0 + i*dt .. + dt)
  const cumArr = new Float64Array(steps + 1);
  const cumServed = new Float64Array(steps + 1);
  const cumDropped = new Float64Array(steps + 1);
  const cumWaited = new Float64Array(steps + 1);
  const t0 = -warmSteps * dt;
  const pool: Pool =
    o.balancing === "perPod"
      ? new PerPodPool(initialReplicas, {
          coldMs,
          serviceRate: o.serviceRate,
          cap: o.podQueueCap ?? 200,
        })
      : new SharedPool(initialReplicas, { coldMs, serviceRate: o.serviceRate, cap: o.queueCap });
  const stepIndex = (t: number) => Math.min(steps, Math.max(0, Math.round((t - t0) / dt)));
  const between = (cum: Float64Array) => (from: number, to: number) =>
    (cum[stepIndex(to)] as number) - (cum[stepIndex(from)] as number);

  const m: RunMetrics = {
    replicaSeconds: 0,
    readyReplicaSeconds: 0,
    sloViolationSeconds: 0,
    dropped: 0,
    maxQueue: 0,
    scaleActions: 0,
    reversals: 0,
    firstScaleUpSeconds: null,
    timeline: [],
  };
  const base = rps[0] ?? 0;
  const riseIndex = rps.findIndex((r) => r > base * 1.1);
  const firstRise = riseIndex < 0 ? undefined : riseIndex * 1000;
  let lastDirection = 0;
  const dtS = dt / 1000;
  const view = {
    now: 0,
    spec: 0,
    ready: 0,
    queue: 0,
    arrived: between(cumArr),
    served: between(cumServed),
    dropped: between(cumDropped),
    waited: between(cumWaited),
  };

  for (let i = 0; i < steps; i++) {
    const t = t0 + i * dt;
    const end = t + dt;
    const spec = pool.spec;
    const ready = pool.readyAt(t);
    const rate = rateAt(rps, t);
    const { served, dropped } = pool.step(t, dt, rate * dtS);
    const queued = pool.queued;
    cumArr[i + 1] = (cumArr[i] as number) + rate * dtS;
    cumServed[i + 1] = (cumServed[i] as number) + served;
    cumDropped[i + 1] = (cumDropped[i] as number) + dropped;
    cumWaited[i + 1] = (cumWaited[i] as number) + queued * dtS;
    const head = pool.oldest();
    const delayMs = head === undefined ? 0 : end - head;

    if (t >= 0) {
      m.replicaSeconds += spec * dtS;
      m.readyReplicaSeconds += ready * dtS;
      // A dropped request never gets an answer in time: its step counts as violation.
      if (delayMs > o.sloMs || dropped > 1e-9) m.sloViolationSeconds += dtS;
      m.dropped += dropped;
      m.maxQueue = Math.max(m.maxQueue, queued);
      if (end % 1000 === 0) {
        m.timeline.push({
          t: end / 1000,
          replicas: spec,
          ready: pool.readyAt(end),
          queue: Math.round(queued),
          rps: rate,
        });
      }
    }

    view.now = end;
    view.spec = spec;
    view.ready = pool.readyAt(end);
    view.queue = queued;
    const wanted = scaler(view);
    if (wanted === undefined || wanted === spec) continue;
    const desired = Math.max(0, Math.round(wanted));
    pool.resize(desired, end);
    if (end > 0) {
      const dir = Math.sign(desired - spec);
      m.scaleActions++;
      if (lastDirection !== 0 && dir !== lastDirection) m.reversals++;
      lastDirection = dir;
      // the first scale-up once the rise is in sight (a scaler with foresight may move a cold start early)
      if (
        dir > 0 &&
        m.firstScaleUpSeconds === null &&
        firstRise !== undefined &&
        end >= firstRise - coldMs
      ) {
        m.firstScaleUpSeconds = Math.round(end - firstRise) / 1000;
      }
    }
  }
  m.replicaSeconds = round(m.replicaSeconds);
  m.readyReplicaSeconds = round(m.readyReplicaSeconds);
  m.sloViolationSeconds = round(m.sloViolationSeconds);
  m.dropped = Math.round(m.dropped);
  m.maxQueue = Math.round(m.maxQueue);
  return m;
}

const round = (x: number) => Math.round(x * 10) / 10;
