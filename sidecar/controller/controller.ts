import {
  appliedElsewhere,
  type Decision,
  decide,
  historyHorizonMs,
  notApplied,
  tookOver,
} from "../policy/index.ts";
import type { ScalingPolicy } from "../protocol/policy.ts";
import { type Report, workloadKey } from "../protocol/report.ts";
import { SIGNAL_NAMES } from "../protocol/signals.ts";
import { aggregate, type PodReport } from "./aggregate.ts";
import { describeTarget, type ScaleBackend } from "./backend.ts";
import { checkReport, type IngestLimits } from "./ingest.ts";
import type { LeaderElector } from "./leader.ts";
import type { ControllerMetrics } from "./metrics.ts";
import { type WorkloadSignals, workloadSignals } from "./signals-view.ts";
import { type DecisionRecord, Workload } from "./workload.ts";

export interface ControllerOptions extends IngestLimits {
  /** A pod whose newest report is older than this is left out of the aggregate. */
  podTtlMs: number;
  /** How often every workload is decided on, reports or not. */
  tickMs: number;
  /** Report-triggered decisions for one workload are at least this far apart. */
  minDecisionIntervalMs: number;
  /**
   * How many workloads with no ScalingPolicy may have their reports kept (for the metrics API,
   * so an HPA can read them); 0 refuses their reports as unknown.
   */
  maxObservedWorkloads: number;
}

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
  podTtlMs: 5_000,
  tickMs: 1_000,
  minDecisionIntervalMs: 100,
  maxObservedWorkloads: 0,
  maxAgeMs: 30_000,
  maxSkewMs: 5_000,
};

export interface ControllerDeps {
  backend: ScaleBackend;
  leader: LeaderElector;
  metrics: ControllerMetrics;
  /** Milliseconds since the epoch; a parameter so tests control time. */
  clock: () => number;
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}

export type Refusal = { status: 404 | 409 | 422; title: string; detail: string };
export type Outcome = { ok: true } | ({ ok: false } & Refusal);

/** Told of every decision as it is made (the live page); see Controller.watch. */
export interface DecisionWatcher {
  /** `logged`: the record was added to the decision log (a change, not a repeated hold). */
  decided(w: Workload, record: DecisionRecord, logged: boolean): void;
  /** The controller stopped deciding: end what follows it (open event streams). */
  stopped(): void;
}

export interface PrescaleRequest {
  replicas: number;
  ttlSeconds: number;
  reason: string;
}

/**
 * The controller's core: takes reports, keeps per-workload state, decides through the pure
 * policy and applies through the backend. No HTTP here (see api.ts) and no Kubernetes (see the
 * backends), so the same core runs in a cluster, in the local stack and in tests.
 */
export class Controller {
  readonly options: ControllerOptions;
  readonly #deps: ControllerDeps;
  readonly #workloads = new Map<string, Workload>();
  // Workloads no policy targets whose reports are kept for the metrics API only: never decided on.
  readonly #observed = new Map<string, ObservedWorkload>();
  // Per-workload scheduling: one decision at a time, report bursts coalesced into one more.
  readonly #running = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #lastRun = new Map<string, number>();
  readonly #watchers = new Set<DecisionWatcher>();
  #ticker: NodeJS.Timeout | undefined;

  constructor(
    policies: ScalingPolicy[],
    deps: ControllerDeps,
    options: Partial<ControllerOptions> = {},
  ) {
    this.#deps = deps;
    this.options = { ...DEFAULT_CONTROLLER_OPTIONS, ...options };
    this.setPolicies(policies);
  }

  /** Replaces the set of policies; state of workloads that keep a policy is kept. */
  setPolicies(policies: ScalingPolicy[]): void {
    const keep = new Set<string>();
    for (const policy of policies) {
      const key = workloadKey({
        namespace: policy.metadata.namespace ?? "default",
        name: policy.spec.targetRef.name,
      });
      keep.add(key);
      const existing = this.#workloads.get(key);
      if (existing) existing.policy = policy;
      else this.#workloads.set(key, new Workload(key, policy));
    }
    for (const key of this.#workloads.keys()) {
      if (!keep.has(key)) this.#forget(key);
    }
  }

  workloads(): Workload[] {
    return [...this.#workloads.values()];
  }

  workload(namespace: string, name: string): Workload | undefined {
    return this.#workloads.get(workloadKey({ namespace, name }));
  }

  get leader(): LeaderElector {
    return this.#deps.leader;
  }

  /** Takes a schema-valid report. A refused report changes nothing. */
  ingest(report: Report): Outcome {
    const { clock, metrics } = this.#deps;
    const now = clock();
    const key = workloadKey(report.workload);
    const w = this.#workloads.get(key) ?? this.#observe(key, report);
    if (!w) {
      metrics.reports.inc({ outcome: "unknown_workload" });
      return {
        ok: false,
        status: 404,
        title: "Unknown workload",
        detail: `no ScalingPolicy targets ${report.workload.namespace}/${report.workload.name}`,
      };
    }
    const kind = w instanceof Workload ? w.policy.spec.targetRef.kind : w.kind;
    if (kind !== report.workload.kind) {
      metrics.reports.inc({ outcome: "kind_mismatch" });
      return {
        ok: false,
        status: 422,
        title: "Workload kind mismatch",
        detail: `${w.key} is a ${kind}, the report says ${report.workload.kind}`,
      };
    }
    const previous = w.pods.get(report.pod.uid);
    const verdict = checkReport(report, previous, now, this.options);
    if (!verdict.ok) {
      metrics.reports.inc({ outcome: verdict.status === 409 ? "replayed" : "stale" });
      return verdict;
    }
    metrics.reports.inc({ outcome: "accepted" });
    metrics.reportAge.observe(Math.max(0, now - report.window.end) / 1000);
    if (report.leaving) w.pods.delete(report.pod.uid);
    else w.pods.set(report.pod.uid, { report, receivedAt: now });
    if (!(w instanceof Workload) && w.pods.size > 0) this.#observed.set(key, w);
    if (w instanceof Workload && (report.leaving || matters(report, previous))) this.#request(w);
    return { ok: true };
  }

  /**
   * The fresh signals of every workload (of one namespace), whether a policy targets it or its
   * reports are only observed: the read-only view the metrics API serves.
   */
  signals(namespace?: string): WorkloadSignals[] {
    const now = this.#deps.clock();
    const ttl = this.options.podTtlMs;
    const out: WorkloadSignals[] = [];
    for (const w of this.#workloads.values()) {
      if (namespace !== undefined && w.namespace !== namespace) continue;
      const ref = { namespace: w.namespace, kind: w.policy.spec.targetRef.kind, policy: true };
      out.push(
        workloadSignals({ ...ref, name: w.policy.spec.targetRef.name }, w.pods.values(), now, ttl),
      );
    }
    for (const o of this.#observed.values()) {
      if (namespace !== undefined && o.namespace !== namespace) continue;
      if (this.#workloads.has(o.key)) continue;
      out.push(workloadSignals({ ...o, policy: false }, o.pods.values(), now, ttl));
    }
    return out;
  }

  /**
   * The observed (policy-less) workload a report names; a new one, kept only once a report is
   * taken, while fewer than the bound are kept.
   */
  #observe(key: string, report: Report): ObservedWorkload | undefined {
    const known = this.#observed.get(key);
    if (known || this.#observed.size >= this.options.maxObservedWorkloads) return known;
    const { namespace, kind, name } = report.workload;
    return { key, namespace, kind, name, pods: new Map() };
  }

  /** Sets a floor that expires: pre-scaling before a known surge. */
  prescale(namespace: string, name: string, req: PrescaleRequest): Outcome {
    const w = this.workload(namespace, name);
    if (!w) {
      return {
        ok: false,
        status: 404,
        title: "Unknown workload",
        detail: `no ScalingPolicy targets ${namespace}/${name}`,
      };
    }
    const max = w.policy.spec.maxReplicas;
    if (req.replicas > max) {
      return {
        ok: false,
        status: 422,
        title: "Floor above maxReplicas",
        detail: `replicas ${req.replicas} exceeds maxReplicas ${max} of ${w.key}`,
      };
    }
    const now = this.#deps.clock();
    w.floors = [
      ...w.floors.filter((f) => f.expiresAt > now),
      { replicas: req.replicas, expiresAt: now + req.ttlSeconds * 1000, reason: req.reason },
    ];
    this.#request(w);
    return { ok: true };
  }

  /**
   * Decides on every workload once a tick until `signal` aborts. The tick is cut into slices,
   * each deciding its share of the workloads: a thousand decisions at once held the event loop
   * for tens of milliseconds, and every report arriving meanwhile waited (BENCHMARKS.md).
   */
  start(signal: AbortSignal): void {
    const slices = tickSlices(this.options.tickMs);
    let slice = 0;
    this.#ticker = setInterval(() => {
      const now = slice;
      slice = (slice + 1) % slices;
      // By position: a workload added or removed meanwhile may shift the others by one slice
      // once, which moves their next decision by a slice, not by a tick.
      let i = 0;
      for (const w of this.#workloads.values()) if (i++ % slices === now) this.#request(w);
      if (now === 0) this.#expireObserved(this.#deps.clock());
    }, this.options.tickMs / slices);
    signal.addEventListener("abort", () => this.stop(), { once: true });
  }

  stop(): void {
    clearInterval(this.#ticker);
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const watcher of this.#watchers) watcher.stopped();
    this.#watchers.clear();
  }

  /** Calls `watcher` after every decision until it unsubscribes (the returned function). */
  watch(watcher: DecisionWatcher): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  /** Decides now for one workload and waits for it (tests, the API after a prescale). */
  async decideNow(namespace: string, name: string): Promise<DecisionRecord | undefined> {
    const w = this.workload(namespace, name);
    if (!w) return undefined;
    await this.#reconcile(w);
    return w.decisions.last;
  }

  #forget(key: string): void {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    this.#workloads.delete(key);
    this.#deps.metrics.forget(key);
  }

  /**
   * The wall clock stepped back (NTP) past the workload's history. Points and policy windows
   * stamped "in the future" would count as current until the clock caught up (an hour for an
   * hour), so they go, as after a restart; pods heard from "later" count from now, so one that
   * went silent still expires after the pod TTL.
   */
  #clockSteppedBack(w: Workload, now: number, stepMs: number): void {
    this.#deps.log.warn({ workload: w.key, step_ms: stepMs }, "wall clock stepped back");
    w.history = w.history.filter((p) => p.t <= now);
    w.policyState = undefined;
    for (const pod of w.pods.values()) pod.receivedAt = Math.min(pod.receivedAt, now);
  }

  #request(w: Workload): void {
    if (this.#running.has(w.key) || this.#timers.has(w.key)) {
      this.#dirty.add(w.key);
      return;
    }
    const since = this.#deps.clock() - (this.#lastRun.get(w.key) ?? 0);
    // since < 0: the wall clock stepped back; waiting for it to catch up could take an hour.
    const wait = since < 0 ? 0 : Math.max(0, this.options.minDecisionIntervalMs - since);
    this.#timers.set(
      w.key,
      setTimeout(() => {
        this.#timers.delete(w.key);
        void this.#run(w);
      }, wait),
    );
  }

  async #run(w: Workload): Promise<void> {
    this.#running.add(w.key);
    try {
      await this.#reconcile(w);
    } catch (err) {
      this.#deps.log.error({ err, workload: w.key }, "reconcile failed");
    } finally {
      this.#running.delete(w.key);
      this.#lastRun.set(w.key, this.#deps.clock());
    }
    if (this.#dirty.delete(w.key) && this.#workloads.get(w.key) === w) this.#request(w);
  }

  async #reconcile(w: Workload): Promise<void> {
    const { backend, leader, metrics, clock, log } = this.#deps;
    const now = clock();
    const target = w.target;
    w.floors = w.floors.filter((f) => f.expiresAt > now);
    // The size as this replica last read or wrote it: a change since then is someone else's.
    const before = w.scale?.replicas;
    try {
      w.scale = await backend.get(target);
    } catch (err) {
      metrics.backendErrors.inc({ op: "get" });
      log.warn({ err, target: describeTarget(target) }, "cannot read scale");
      return;
    }
    const newest = w.history.at(-1);
    if (newest && newest.t > now) this.#clockSteppedBack(w, now, newest.t - now);
    const agg = aggregate(w.pods.values(), now, this.options.podTtlMs);
    w.lastAggregate = agg;
    metrics.observeInputs(w.key, w.policy.spec, agg);
    this.#expirePods(w, now);
    // All ready replicas: the policy brackets those that did not report (new or silent).
    const ready = w.scale.readyReplicas;
    w.history.push({ t: now, pods: agg.pods, ready, signals: agg.signals });
    const horizon = now - historyHorizonMs(w.policy.spec);
    const firstKept = w.history.findIndex((p) => p.t >= horizon);
    if (firstKept > 0) w.history.splice(0, firstKept);

    // Only the leader's decisions are applied; a follower's state follows what the leader did,
    // and a new leader keeps what the old one applied (see policy/handover.ts).
    const leading = leader.isLeader();
    let state = w.policyState;
    if (state && !leading && before !== undefined) {
      state = appliedElsewhere(state, now, w.scale.replicas - before);
    }
    if (state && leading && !w.leading) state = tookOver(state, now, w.scale.replicas);
    w.leading = leading;
    const d: Decision = decide({
      policy: w.policy.spec,
      history: w.history,
      currentReplicas: w.scale.replicas,
      readyReplicas: w.scale.readyReplicas,
      floors: w.floors,
      state,
      now,
    });
    w.policyState = d.state;

    const change = d.desiredReplicas !== w.scale.replicas;
    const record: DecisionRecord = {
      at: now,
      currentReplicas: w.scale.replicas,
      readyReplicas: w.scale.readyReplicas,
      desiredReplicas: d.desiredReplicas,
      reason: d.reason,
      limitedBy: d.limitedBy,
      recommendation: d.recommendation,
      stages: d.stages,
      panic: d.panic,
      dryRun: d.dryRun,
      applied: false,
      leader: leader.leader(),
    };
    if (change && !d.dryRun && leading) {
      try {
        await backend.set(target, d.desiredReplicas, d.reason);
        record.applied = true;
        w.lastScaleTime = clock();
        w.scale = { ...w.scale, replicas: d.desiredReplicas };
        metrics.scaleWrites.inc({ workload: w.key, outcome: "ok" });
        log.info(
          {
            workload: w.key,
            from: record.currentReplicas,
            to: d.desiredReplicas,
            reason: d.reason,
          },
          "scaled",
        );
      } catch (err) {
        record.error = err instanceof Error ? err.message : String(err);
        metrics.scaleWrites.inc({ workload: w.key, outcome: "error" });
        log.warn({ err, workload: w.key }, "scale write failed");
      }
    }
    if (change && !d.dryRun && !record.applied && w.policyState === d.state) {
      w.policyState = notApplied(d.state, now);
    }
    metrics.observeDecision(w.key, record);
    // Keep the log readable: a steady "hold" is recorded once, not once a tick.
    const last = w.decisions.last;
    const logged =
      !last ||
      change ||
      record.error !== undefined ||
      last.desiredReplicas !== record.desiredReplicas ||
      last.currentReplicas !== record.currentReplicas ||
      last.limitedBy !== record.limitedBy ||
      last.panic !== record.panic;
    if (logged) w.decisions.push(record);
    for (const watcher of this.#watchers) watcher.decided(w, record, logged);
  }

  /** Forget pods silent for much longer than the TTL, so memory follows the live pod set. */
  #expirePods(w: { pods: Map<string, PodReport> }, now: number): void {
    const forgetAfter = this.options.podTtlMs * 12;
    for (const [uid, p] of w.pods) {
      if (now - p.receivedAt > forgetAfter) w.pods.delete(uid);
    }
  }

  /** Observed workloads go with their last pod; one a policy now targets moves over to it. */
  #expireObserved(now: number): void {
    for (const o of this.#observed.values()) {
      const w = this.#workloads.get(o.key);
      if (w) {
        for (const [uid, p] of o.pods) if (!w.pods.has(uid)) w.pods.set(uid, p);
        this.#observed.delete(o.key);
        continue;
      }
      this.#expirePods(o, now);
      if (o.pods.size === 0) this.#observed.delete(o.key);
    }
  }
}

/** How many slices a tick is cut into: up to 50, none shorter than a millisecond. */
export function tickSlices(tickMs: number): number {
  return Math.max(1, Math.min(50, Math.floor(tickMs)));
}

/** A workload no policy targets, whose reports are kept for the metrics API only. */
interface ObservedWorkload {
  key: string;
  namespace: string;
  kind: string;
  name: string;
  pods: Map<string, PodReport>;
}

/**
 * Whether a report should trigger a decision now rather than at the next tick: a new pod, a
 * change of app state, or a signal that moved by more than a tenth.
 */
export function matters(report: Report, previous: PodReport | undefined): boolean {
  if (!previous) return true;
  const prev = previous.report;
  if (prev.app !== report.app) return true;
  for (const name of SIGNAL_NAMES) {
    const a = prev.signals[name] ?? 0;
    const b = report.signals[name] ?? 0;
    if (Math.abs(b - a) > Math.max(0.1 * Math.max(a, b), 0.5)) return true;
  }
  return false;
}
