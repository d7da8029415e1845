/**
 * The simulated service: a deterministic discrete-time model (fixed step, default 100 ms).
 *
 * - Arrivals per second come from the trace (constant within each second).
 * - One shared FIFO queue, as a load balancer spreading evenly; beyond `queueCap` the newest
 *   requests are dropped.
 * - Each ready replica serves `serviceRate` requests per second.
 * - A replica created by a scale-up is ready `coldStartSeconds` later; a scale-down removes the
 *   youngest replicas first (those still starting, then ready ones), at once.
 * - Queueing delay is the age of the oldest waiting request; a step whose delay exceeds the SLO
 *   counts as violation time.
 * Before t = 0 every run has a warm-up at the trace's first rate, so each autoscaler starts from
 * its own steady state; nothing in the warm-up is counted.
 */

export interface ModelOptions {
  serviceRate: number;
  coldStartSeconds: number;
  sloMs: number;
  queueCap: number;
  stepMs: number;
  warmupSeconds: number;
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

/** FIFO of arrival chunks (time, amount). */
class ChunkQueue {
  private times: number[] = [];
  private amounts: number[] = [];
  private head = 0;
  total = 0;

  push(t: number, amount: number): void {
    if (amount <= 0) return;
    this.times.push(t);
    this.amounts.push(amount);
    this.total += amount;
  }

  /** Serve up to `capacity` from the head; returns what was served. */
  serve(capacity: number): number {
    let left = capacity;
    while (left > 0 && this.head < this.amounts.length) {
      const a = this.amounts[this.head] as number;
      if (a <= left + 1e-9) {
        left -= a;
        this.head++;
      } else {
        this.amounts[this.head] = a - left;
        left = 0;
      }
    }
    const served = capacity - Math.max(0, left);
    this.total = Math.max(0, this.total - served);
    if (this.head === this.amounts.length) this.total = 0;
    this.compact();
    return Math.min(served, capacity);
  }

  /** Drop the newest requests beyond `cap`; returns how many. */
  trimTo(cap: number): number {
    let over = this.total - cap;
    if (over <= 0) return 0;
    const dropped = over;
    while (over > 0 && this.amounts.length > this.head) {
      const i = this.amounts.length - 1;
      const a = this.amounts[i] as number;
      if (a <= over) {
        over -= a;
        this.amounts.pop();
        this.times.pop();
      } else {
        this.amounts[i] = a - over;
        over = 0;
      }
    }
    this.total = cap;
    return dropped;
  }

  /** Arrival time of the oldest waiting request, if any. */
  headTime(): number | undefined {
    return this.head < this.times.length ? this.times[this.head] : undefined;
  }

  /** Amount waiting that arrived before `t`. */
  olderThan(t: number): number {
    let sum = 0;
    for (let i = this.head; i < this.times.length && (this.times[i] as number) < t; i++)
      sum += this.amounts[i] as number;
    return sum;
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.amounts = this.amounts.slice(this.head);
      this.head = 0;
    }
  }
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
  const t0 = -warmSteps * dt;
  const q = new ChunkQueue();
  // creation times of the replicas, oldest first; warm replicas "always" existed
  const pods: number[] = Array.from({ length: initialReplicas }, () => Number.NEGATIVE_INFINITY);

  const readyAt = (t: number) => {
    // count of pods created at or before t - coldMs (pods is sorted ascending)
    let lo = 0;
    let hi = pods.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((pods[mid] as number) <= t - coldMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
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

  for (let i = 0; i < steps; i++) {
    const t = t0 + i * dt;
    const end = t + dt;
    const spec = pods.length;
    const ready = readyAt(t);
    const rate = rateAt(rps, t);
    q.push(t, rate * dtS);
    const served = q.serve(ready * o.serviceRate * dtS);
    const dropped = q.trimTo(o.queueCap);
    cumArr[i + 1] = (cumArr[i] as number) + rate * dtS;
    cumServed[i + 1] = (cumServed[i] as number) + served;
    cumDropped[i + 1] = (cumDropped[i] as number) + dropped;
    const head = q.headTime();
    const delayMs = head === undefined ? 0 : end - head;

    if (t >= 0) {
      m.replicaSeconds += spec * dtS;
      m.readyReplicaSeconds += ready * dtS;
      if (delayMs > o.sloMs) m.sloViolationSeconds += dtS;
      m.dropped += dropped;
      m.maxQueue = Math.max(m.maxQueue, q.total);
      if (end % 1000 === 0) {
        m.timeline.push({
          t: end / 1000,
          replicas: spec,
          ready: readyAt(end),
          queue: Math.round(q.total),
          rps: rate,
        });
      }
    }

    const view: ClusterView = {
      now: end,
      spec,
      ready: readyAt(end),
      queue: q.total,
      arrived: between(cumArr),
      served: between(cumServed),
      dropped: between(cumDropped),
    };
    const wanted = scaler(view);
    if (wanted === undefined || wanted === spec) continue;
    const desired = Math.max(0, Math.round(wanted));
    if (desired > spec) for (let k = spec; k < desired; k++) pods.push(end);
    else pods.length = desired;
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
