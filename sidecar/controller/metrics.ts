import { Counter, Gauge, Histogram, type Registry } from "prom-client";
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
  forget(workload: string): void;
}

export function createControllerMetrics(registry: Registry): ControllerMetrics {
  const registers = [registry];
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
    desired: new Gauge({
      name: "swell_desired_replicas",
      help: "Replicas the policy wants, per workload.",
      labelNames: ["workload"] as const,
      registers,
    }),
    current: new Gauge({
      name: "swell_current_replicas",
      help: "Replicas the target has (spec), per workload.",
      labelNames: ["workload"] as const,
      registers,
    }),
    ready: new Gauge({
      name: "swell_ready_replicas",
      help: "Replicas of the target that are ready, per workload.",
      labelNames: ["workload"] as const,
      registers,
    }),
    decisions: new Counter({
      name: "swell_decisions_total",
      help: "Decisions made, by direction (up, down, hold).",
      labelNames: ["workload", "direction"] as const,
      registers,
    }),
    panic: new Gauge({
      name: "swell_panic_mode",
      help: "1 while the policy is in panic mode for the workload.",
      labelNames: ["workload"] as const,
      registers,
    }),
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
    forget(workload) {
      for (const g of [m.desired, m.current, m.ready, m.panic]) g.remove({ workload });
    },
  };
}
