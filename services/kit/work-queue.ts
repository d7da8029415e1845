import { randomUUID } from "node:crypto";
import { Counter, Gauge, type Registry } from "prom-client";

export type JobState = "queued" | "running" | "done" | "failed";
export type JobOutcome = "accepted" | "rejected" | "completed" | "failed";

export interface JobStatus {
  id: string;
  state: JobState;
}

export type SubmitResult = { ok: true; id: string } | { ok: false; reason: "full" | "closed" };

export interface DrainResult {
  /** Jobs that finished (done or failed) between the start of the drain and its end. */
  completed: number;
  /** Jobs dropped because the deadline passed: still queued, or running and aborted. */
  abandoned: number;
  /** Over the queue's whole life, so a caller can check that every accepted job ended. */
  accepted_total: number;
  finished_total: number;
}

export interface WorkQueueOptions<T> {
  /** Most jobs waiting (not yet started); beyond it `submit` answers "full". */
  capacity: number;
  /** Most jobs running at once. */
  concurrency: number;
  /** Does one job; `signal` aborts when a drain deadline passes. A throw marks it failed. */
  run: (payload: T, signal: AbortSignal) => Promise<void>;
  /** Registers work_queue_length, work_queue_capacity, work_jobs_running, work_jobs_total. */
  registry: Registry;
  /** How many finished jobs `get` still knows (oldest forgotten first). */
  retainFinished?: number;
  /** Told when a job ends (e.g. to log it). */
  onSettled?: (job: { id: string; state: "done" | "failed"; durationMs: number }) => void;
  now?: () => number;
}

interface Job<T> {
  id: string;
  payload: T;
  state: JobState;
  abort?: AbortController;
}

/**
 * A bounded FIFO queue in front of a concurrency-limited pool. Jobs wait in the queue until a
 * slot frees; the queue length (jobs waiting, not started) is the backlog a scaler sizes on,
 * and work_jobs_total{outcome="accepted"|"rejected"} counts arrivals, so demand stays visible
 * even when the pool is saturated.
 */
export class WorkQueue<T> {
  readonly capacity: number;
  readonly concurrency: number;
  readonly #run: WorkQueueOptions<T>["run"];
  readonly #now: () => number;
  readonly #retain: number;
  readonly #onSettled: WorkQueueOptions<T>["onSettled"];
  readonly #jobs = new Map<string, Job<T>>();
  readonly #waiting: Job<T>[] = [];
  readonly #finished: string[] = [];
  readonly #idleWaiters = new Set<() => void>();
  #running = 0;
  #closed = false;
  #completedCount = 0;
  #acceptedCount = 0;
  #meanJobMs = 0;
  readonly #metrics: {
    length: Gauge;
    running: Gauge;
    jobs: Counter<"outcome">;
  };

  constructor(options: WorkQueueOptions<T>) {
    this.capacity = options.capacity;
    this.concurrency = options.concurrency;
    this.#run = options.run;
    this.#now = options.now ?? Date.now;
    this.#retain = options.retainFinished ?? 10_000;
    this.#onSettled = options.onSettled;
    const registers = [options.registry];
    const capacityGauge = new Gauge({
      name: "work_queue_capacity",
      help: "Most jobs the queue holds waiting.",
      registers,
    });
    capacityGauge.set(this.capacity);
    this.#metrics = {
      length: new Gauge({
        name: "work_queue_length",
        help: "Jobs waiting in the queue, not yet started.",
        registers,
      }),
      running: new Gauge({
        name: "work_jobs_running",
        help: "Jobs being worked on now.",
        registers,
      }),
      jobs: new Counter({
        name: "work_jobs_total",
        help: "Jobs by outcome: accepted or rejected on arrival, completed or failed at the end.",
        labelNames: ["outcome"],
        registers,
      }),
    };
    // Start every series at 0, so rates work from the first scrape.
    for (const outcome of ["accepted", "rejected", "completed", "failed"] as const) {
      this.#metrics.jobs.inc({ outcome }, 0);
    }
  }

  /** Jobs waiting, not yet started. */
  get length(): number {
    return this.#waiting.length;
  }

  get running(): number {
    return this.#running;
  }

  submit(payload: T): SubmitResult {
    if (this.#closed) {
      this.#metrics.jobs.inc({ outcome: "rejected" });
      return { ok: false, reason: "closed" };
    }
    if (this.#waiting.length >= this.capacity) {
      this.#metrics.jobs.inc({ outcome: "rejected" });
      return { ok: false, reason: "full" };
    }
    const job: Job<T> = { id: randomUUID(), payload, state: "queued" };
    this.#jobs.set(job.id, job);
    this.#waiting.push(job);
    this.#metrics.jobs.inc({ outcome: "accepted" });
    this.#acceptedCount++;
    this.#metrics.length.set(this.#waiting.length);
    this.#pump();
    return { ok: true, id: job.id };
  }

  get(id: string): JobStatus | undefined {
    const job = this.#jobs.get(id);
    return job && { id: job.id, state: job.state };
  }

  /**
   * When to try again after "full", in whole seconds: about when a running job frees a slot,
   * from the mean job duration seen so far.
   */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#meanJobMs / this.concurrency / 1000));
  }

  /**
   * Refuses new jobs ("closed") and resolves when every queued and running job has finished,
   * or, when `deadline` aborts first, aborts what runs and drops what waits.
   */
  async drain(deadline: AbortSignal): Promise<DrainResult> {
    this.#closed = true;
    const completedBefore = this.#completedCount;
    if (!this.#idle() && !deadline.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#idleWaiters.delete(done);
          deadline.removeEventListener("abort", done);
          resolve();
        };
        this.#idleWaiters.add(done);
        deadline.addEventListener("abort", done, { once: true });
      });
    }
    const completed = this.#completedCount - completedBefore;
    let abandoned = this.#waiting.length;
    this.#waiting.length = 0;
    this.#metrics.length.set(0);
    for (const job of this.#jobs.values()) {
      if (job.state === "running") {
        abandoned++;
        job.abort?.abort();
      }
    }
    return {
      completed,
      abandoned,
      accepted_total: this.#acceptedCount,
      finished_total: this.#completedCount,
    };
  }

  #idle(): boolean {
    return this.#waiting.length === 0 && this.#running === 0;
  }

  #pump(): void {
    while (this.#running < this.concurrency && this.#waiting.length > 0) {
      const job = this.#waiting.shift() as Job<T>;
      this.#metrics.length.set(this.#waiting.length);
      void this.#start(job);
    }
    if (this.#idle()) for (const resolve of [...this.#idleWaiters]) resolve();
  }

  async #start(job: Job<T>): Promise<void> {
    this.#running++;
    this.#metrics.running.set(this.#running);
    job.state = "running";
    job.abort = new AbortController();
    const started = this.#now();
    let outcome: "completed" | "failed" = "completed";
    try {
      await this.#run(job.payload, job.abort.signal);
      job.state = "done";
    } catch {
      job.state = "failed";
      outcome = "failed";
    }
    job.abort = undefined;
    // An exponentially weighted mean: recent jobs count most, old ones fade.
    const took = this.#now() - started;
    this.#meanJobMs = this.#meanJobMs === 0 ? took : 0.8 * this.#meanJobMs + 0.2 * took;
    this.#running--;
    this.#completedCount++;
    this.#metrics.running.set(this.#running);
    this.#metrics.jobs.inc({ outcome });
    this.#remember(job.id);
    this.#onSettled?.({
      id: job.id,
      state: outcome === "completed" ? "done" : "failed",
      durationMs: took,
    });
    this.#pump();
  }

  #remember(id: string): void {
    this.#finished.push(id);
    while (this.#finished.length > this.#retain) {
      const old = this.#finished.shift();
      if (old !== undefined) this.#jobs.delete(old);
    }
  }
}
