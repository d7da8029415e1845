import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ScalingPolicySpec } from "../protocol/policy.ts";
import { SIGNAL_NAMES, type SignalName } from "../protocol/signals.ts";
import type { Aggregate } from "./aggregate.ts";
import type { DecisionRecord } from "./workload.ts";

/** The controller's own metrics: what it decided and how fresh its inputs were. */
export interface ControllerMetrics {
  reports: Counter<"outcome">;
  reportAge: Histogram;
  desired: Gauge<"workload">;
  current: Gauge<"workload">;
  ready: Gauge<"workload">;
  decisions: Counter<"workload" | "direction">;
  panic: Gauge<"workload">;
  scaleWrites: Counter<"workload" | "outcome">;
  backendErrors: Counter<"op">;
  observeDecision(workload: string, d: DecisionRecord): void;
  /** What the policy saw and is bound by, for dashboards and alerts (k8s/components/monitoring). */
  observeInputs(workload: string, policy: ScalingPolicySpec, agg: Aggregate): void;
  forget(workload: string): void;
}

export function createControllerMetrics(registry: Registry): ControllerMetrics {
  const registers = [registry];
  const workloadGauges: Gauge<"workload">[] = [];
  const observed = new Map<
    string,
    { policy: ScalingPolicySpec | undefined; signals: Set<SignalName> }
  >();
  // Gauges keyed by workload alone: removed together when a workload's policy goes.
  const perWorkload = (name: string, help: string) => {
    const g = new Gauge({ name, help, labelNames: ["workload"] as const, registers });
    workloadGauges.push(g);
    return g;
  };
  const m = {
    reports: new Counter({
      name: "swell_reports_total",
      help: "Reports received from agents, by outcome.",
      labelNames: ["outcome"] as const,
      registers,
    }),
    reportAge: new Histogram({
      name: "swell_report_age_seconds",
      help: "Age of a report's window end when the controller took it.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    desired: perWorkload("swell_desired_replicas", "Replicas the policy wants, per workload."),
    current: perWorkload("swell_current_replicas", "Replicas the target has (spec), per workload."),
    ready: perWorkload(
      "swell_ready_replicas",
      "Replicas of the target that are ready, per workload.",
    ),
    decisions: new Counter({
      name: "swell_decisions_total",
      help: "Decisions made, by direction (up, down, hold).",
      labelNames: ["workload", "direction"] as const,
      registers,
    }),
    panic: perWorkload("swell_panic_mode", "1 while the policy is in panic mode for the workload."),
    scaleWrites: new Counter({
      name: "swell_scale_writes_total",
      help: "Scale changes written to the backend, by outcome.",
      labelNames: ["workload", "outcome"] as const,
      registers,
    }),
    backendErrors: new Counter({
      name: "swell_backend_errors_total",
      help: "Failed backend calls, by operation.",
      labelNames: ["op"] as const,
      registers,
    }),
    minReplicas: perWorkload(
      "swell_policy_min_replicas",
      "The ScalingPolicy's minReplicas, per workload.",
    ),
    maxReplicas: perWorkload(
      "swell_policy_max_replicas",
      "The ScalingPolicy's maxReplicas, per workload.",
    ),
    dryRun: perWorkload(
      "swell_policy_dry_run",
      "1 while the workload's policy is in mode dryRun (decides, does not scale).",
    ),
    reportingPods: perWorkload(
      "swell_reporting_pods",
      "Ready pods with a fresh report in the newest decision, per workload.",
    ),
    signal: new Gauge({
      name: "swell_workload_signal",
      help: "A signal summed over the workload's fresh, ready pods, as the policy saw it.",
      labelNames: ["workload", "signal"] as const,
      registers,
    }),
    signalTarget: new Gauge({
      name: "swell_workload_signal_target",
      help: "The policy's target for a signal, per pod (metrics[].averageValue).",
      labelNames: ["workload", "signal"] as const,
      registers,
    }),
  };
  return {
    ...m,
    observeDecision(workload, d) {
      m.desired.set({ workload }, d.desiredReplicas);
      m.current.set({ workload }, d.currentReplicas);
      m.ready.set({ workload }, d.readyReplicas);
      m.panic.set({ workload }, d.panic ? 1 : 0);
      const direction =
        d.desiredReplicas > d.currentReplicas
          ? "up"
          : d.desiredReplicas < d.currentReplicas
            ? "down"
            : "hold";
      m.decisions.inc({ workload, direction });
    },
    observeInputs(workload, policy, agg) {
      // Once a decision: touch only what can have changed (each labelled set or remove hashes
      // its labels). The policy's values change with the policy object alone.
      const seen = observed.get(workload) ?? { policy: undefined, signals: new Set<SignalName>() };
      observed.set(workload, seen);
      if (seen.policy !== policy) {
        seen.policy = policy;
        m.minReplicas.set({ workload }, policy.minReplicas);
        m.maxReplicas.set({ workload }, policy.maxReplicas);
        m.dryRun.set({ workload }, policy.mode === "dryRun" ? 1 : 0);
        const targets = new Map(policy.metrics.map((t) => [t.name, t.averageValue]));
        for (const signal of SIGNAL_NAMES) {
          const v = targets.get(signal);
          if (v === undefined) m.signalTarget.remove({ workload, signal });
          else m.signalTarget.set({ workload, signal }, v);
        }
      }
      m.reportingPods.set({ workload }, agg.pods);
      for (const signal of seen.signals) {
        if (agg.signals[signal] === undefined) m.signal.remove({ workload, signal });
      }
      seen.signals.clear();
      for (const signal of SIGNAL_NAMES) {
        const v = agg.signals[signal];
        if (v === undefined) continue;
        m.signal.set({ workload, signal }, v);
        seen.signals.add(signal);
      }
    },
    forget(workload) {
      observed.delete(workload);
      for (const g of workloadGauges) g.remove({ workload });
      for (const signal of SIGNAL_NAMES) {
        m.signal.remove({ workload, signal });
        m.signalTarget.remove({ workload, signal });
      }
    },
  };
}
