import type { Signals } from "../../protocol/report.ts";
import { SIGNALS } from "../../protocol/signals.ts";
import { decisionView } from "../api.ts";
import type { Controller, DecisionWatcher } from "../controller.ts";
import type { DecisionRecord, Workload } from "../workload.ts";

/** What the page needs of a workload's policy to draw it: bounds and each metric's target. */
export interface LiveWorkload {
  key: string;
  namespace: string;
  name: string;
  kind: string;
  mode: string;
  minReplicas: number;
  maxReplicas: number;
  metrics: { name: string; averageValue: number; unit: string }[];
}

/** One point of the charts: what the controller saw and decided at one decision. */
export interface LiveSample {
  workload: string;
  /** ms since the epoch */
  t: number;
  currentReplicas: number;
  desiredReplicas: number;
  readyReplicas: number;
  /** ready pods whose fresh report is in `signals` */
  pods: number;
  /** sums over those pods */
  signals: Signals;
  /** set when this decision went into the decision log (a change, not a repeated hold) */
  decision?: ReturnType<typeof decisionView>;
}

export type LiveEvent =
  | { type: "workload"; data: LiveWorkload }
  | { type: "sample"; data: LiveSample }
  | { type: "end" };

export interface FeedOptions {
  /** How much history a page opened now is given, ms. */
  keepMs: number;
  /** Bound on the samples kept per workload, whatever their age (exceeded by less than a seventh). */
  maxSamples: number;
}

export const DEFAULT_FEED_OPTIONS: FeedOptions = { keepMs: 10 * 60_000, maxSamples: 6_000 };

export function liveWorkload(w: Workload): LiveWorkload {
  const { spec } = w.policy;
  return {
    key: w.key,
    namespace: w.namespace,
    name: spec.targetRef.name,
    kind: spec.targetRef.kind,
    mode: spec.mode,
    minReplicas: spec.minReplicas,
    maxReplicas: spec.maxReplicas,
    metrics: spec.metrics.map((m) => ({
      name: m.name,
      averageValue: m.averageValue,
      unit: SIGNALS[m.name],
    })),
  };
}

export function liveSample(w: Workload, record: DecisionRecord, logged: boolean): LiveSample {
  const sample: LiveSample = {
    workload: w.key,
    t: record.at,
    currentReplicas: record.currentReplicas,
    desiredReplicas: record.desiredReplicas,
    readyReplicas: record.readyReplicas,
    pods: w.lastAggregate?.pods ?? 0,
    signals: w.lastAggregate?.signals ?? {},
  };
  if (logged) sample.decision = decisionView(record);
  return sample;
}

type Listener = (event: LiveEvent) => void;

/**
 * The live page's source: follows the controller's decisions, keeps the last minutes of them per
 * workload (so a page opened mid-run has a history to draw) and fans each new one out to the open
 * event streams. Memory is bounded by `keepMs` and `maxSamples` per workload.
 */
export class LiveFeed implements DecisionWatcher {
  readonly #options: FeedOptions;
  readonly #samples = new Map<string, LiveSample[]>();
  readonly #policies = new Map<string, { policy: unknown; view: LiveWorkload }>();
  readonly #listeners = new Set<Listener>();
  #ended = false;

  constructor(options: Partial<FeedOptions> = {}) {
    this.#options = { ...DEFAULT_FEED_OPTIONS, ...options };
  }

  /** Follows `controller` until it stops. */
  follow(controller: Controller): this {
    controller.watch(this);
    return this;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  decided(w: Workload, record: DecisionRecord, logged: boolean): void {
    const known = this.#policies.get(w.key);
    if (known?.policy !== w.policy) {
      const view = liveWorkload(w);
      this.#policies.set(w.key, { policy: w.policy, view });
      this.#emit({ type: "workload", data: view });
    }
    const sample = liveSample(w, record, logged);
    const list = this.#samples.get(w.key) ?? [];
    if (list.length === 0) this.#samples.set(w.key, list);
    list.push(sample);
    this.#trim(list, sample.t);
    this.#emit({ type: "sample", data: sample });
  }

  // Drops old samples an eighth of the list at a time: one splice per many decisions instead of
  // shifting the whole list (thousands of samples at the bound) on every one.
  #trim(list: LiveSample[], now: number): void {
    const { keepMs, maxSamples } = this.#options;
    const batch = Math.max(1, Math.ceil(list.length / 8));
    const over = list.length - maxSamples;
    if (over < batch && (list[batch - 1]?.t ?? now) >= now - keepMs) return;
    let drop = Math.max(0, over);
    while (drop < list.length && (list[drop]?.t ?? now) < now - keepMs) drop++;
    list.splice(0, drop);
  }

  stopped(): void {
    this.#ended = true;
    this.#emit({ type: "end" });
    this.#listeners.clear();
  }

  /**
   * What a new page starts from, then every event after it until `unsubscribe`. Workloads whose
   * policy was removed are left out (`current` lists the controller's workloads now).
   */
  subscribe(
    current: Workload[],
    listener: Listener,
  ): { workloads: LiveWorkload[]; samples: LiveSample[]; unsubscribe: () => void } {
    const keys = new Set(current.map((w) => w.key));
    for (const key of this.#samples.keys()) {
      if (!keys.has(key)) {
        this.#samples.delete(key);
        this.#policies.delete(key);
      }
    }
    this.#listeners.add(listener);
    return {
      workloads: current.map(liveWorkload),
      samples: [...this.#samples.values()].flat(),
      unsubscribe: () => this.#listeners.delete(listener),
    };
  }

  #emit(event: LiveEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
