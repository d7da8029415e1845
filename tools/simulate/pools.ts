/**
 * The replicas of the simulated service and the queues in front of them: one shared FIFO
 * (`SharedPool`) or one FIFO per pod behind a round-robin Service (`PerPodPool`). See model.ts.
 */
import { ChunkQueue } from "./queue.ts";

export interface PoolOptions {
  coldMs: number;
  serviceRate: number;
  /** requests the queue holds (shared) or each pod's queue holds (perPod) */
  cap: number;
}

export interface Pool {
  /** spec.replicas: pods that exist and are not terminating */
  readonly spec: number;
  /** pods ready at `t` (created a cold start or more before it) */
  readyAt(t: number): number;
  /** one step from `t` of `dt` ms: `arriving` requests in, what was served and dropped */
  step(t: number, dt: number, arriving: number): { served: number; dropped: number };
  /** requests waiting anywhere */
  readonly queued: number;
  /** arrival time of the oldest waiting request, if any */
  oldest(): number | undefined;
  /** scale to `desired` at `t`: new pods are created now, the youngest go first */
  resize(desired: number, t: number): void;
}

/** Sorted creation times, oldest first: the count of those at or before `t` is a binary search. */
function countAtOrBefore(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SharedPool implements Pool {
  readonly #pods: number[];
  readonly #q = new ChunkQueue();

  readonly #o: PoolOptions;

  constructor(initial: number, o: PoolOptions) {
    this.#o = o;
    // warm replicas "always" existed
    this.#pods = Array.from({ length: initial }, () => Number.NEGATIVE_INFINITY);
  }
  get spec() {
    return this.#pods.length;
  }
  get queued() {
    return this.#q.total;
  }
  readyAt(t: number) {
    return countAtOrBefore(this.#pods, t - this.#o.coldMs);
  }
  step(t: number, dt: number, arriving: number) {
    this.#q.push(t, arriving);
    const served = this.#q.serve((this.readyAt(t) * this.#o.serviceRate * dt) / 1000);
    return { served, dropped: this.#q.trimTo(this.#o.cap) };
  }
  oldest() {
    return this.#q.headTime();
  }
  resize(desired: number, t: number) {
    if (desired > this.#pods.length)
      for (let k = this.#pods.length; k < desired; k++) this.#pods.push(t);
    else this.#pods.length = desired;
  }
}

/** Pods created at the same time, with one queue each, all alike: they are kept as one group. */
interface Cohort {
  created: number;
  count: number;
  /** one pod's queue */
  q: ChunkQueue;
}

export class PerPodPool implements Pool {
  /** oldest first */
  #cohorts: Cohort[];
  /** removed pods still draining their queue */
  #leaving: Cohort[] = [];

  readonly #o: PoolOptions;

  constructor(initial: number, o: PoolOptions) {
    this.#o = o;
    this.#cohorts =
      initial > 0
        ? [{ created: Number.NEGATIVE_INFINITY, count: initial, q: new ChunkQueue() }]
        : [];
  }
  get spec() {
    let n = 0;
    for (const c of this.#cohorts) n += c.count;
    return n;
  }
  get queued() {
    let n = 0;
    for (const c of this.#cohorts) n += c.count * c.q.total;
    for (const c of this.#leaving) n += c.count * c.q.total;
    return n;
  }
  readyAt(t: number) {
    let n = 0;
    for (const c of this.#cohorts) if (c.created <= t - this.#o.coldMs) n += c.count;
    return n;
  }
  step(t: number, dt: number, arriving: number) {
    const ready = this.readyAt(t);
    const perPodCapacity = (this.#o.serviceRate * dt) / 1000;
    let served = 0;
    let dropped = 0;
    // No ready endpoint: the Service refuses the connection.
    if (ready === 0) dropped += arriving;
    for (const c of this.#cohorts) {
      if (c.created > t - this.#o.coldMs) continue;
      c.q.push(t, arriving / ready);
      served += c.count * c.q.serve(perPodCapacity);
      dropped += c.count * c.q.trimTo(this.#o.cap);
    }
    for (const c of this.#leaving) served += c.count * c.q.serve(perPodCapacity);
    this.#leaving = this.#leaving.filter((c) => c.q.total > 1e-9);
    this.#mergeIdle(t);
    return { served, dropped };
  }
  oldest() {
    let o: number | undefined;
    for (const c of [...this.#cohorts, ...this.#leaving]) {
      const h = c.q.headTime();
      if (h !== undefined && (o === undefined || h < o)) o = h;
    }
    return o;
  }
  resize(desired: number, t: number) {
    let spec = this.spec;
    if (desired > spec) {
      this.#cohorts.push({ created: t, count: desired - spec, q: new ChunkQueue() });
      return;
    }
    while (spec > desired) {
      const c = this.#cohorts.at(-1) as Cohort;
      const n = Math.min(c.count, spec - desired);
      c.count -= n;
      spec -= n;
      if (c.q.total > 1e-9) this.#leaving.push({ created: c.created, count: n, q: c.q.clone() });
      if (c.count === 0) this.#cohorts.pop();
    }
  }
  /** Ready pods with empty queues are interchangeable: one group keeps the step cheap. */
  #mergeIdle(t: number) {
    if (this.#cohorts.length < 2) return;
    const idle = (c: Cohort) => c.created <= t - this.#o.coldMs && c.q.total <= 1e-9;
    const out: Cohort[] = [];
    for (const c of this.#cohorts) {
      const prev = out.at(-1);
      if (prev && idle(prev) && idle(c)) prev.count += c.count;
      else out.push(c);
    }
    this.#cohorts = out;
  }
}
