/**
 * The autoscalers under comparison, each fed the way it is in real life.
 *
 * - swell: the real decide() (sidecar/policy), fed 1 s sidecar reports aggregated over ready pods,
 *   deciding on every aggregate, as the controller does.
 * - hpa: the Kubernetes HPA v2 with default behavior and an AverageValue target on the request
 *   rate (an External/Pods metric through a metrics adapter) at `target` × a replica's capacity.
 *   It runs every 15 s (--horizontal-pod-autoscaler-sync-period), at `phaseSeconds` into each
 *   period (the controller's start time, unrelated to the traffic's), and sees the rate as it was
 *   `hpaDelaySeconds` ago, averaged over a 15 s scrape interval (scrape + adapter pipeline). Its arithmetic is decide()
 *   with none of swell's rules enabled, which the unit tests pin to the HPA documentation:
 *   https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/#algorithm-details
 * - kpa: Knative's KPA, see kpa.ts. - oracle: see oracle.ts.
 */

import {
  type AggregatedPoint,
  decide,
  historyHorizonMs,
  type PolicyState,
} from "../../sidecar/policy/index.ts";
import { ScalingPolicySpec, type ScalingPolicySpecInput } from "../../sidecar/protocol/policy.ts";
import type { Autoscaler } from "./model.ts";

export interface ScalerOptions {
  serviceRate: number;
  coldStartSeconds: number;
  sloMs: number;
  hpaDelaySeconds: number;
  maxReplicas: number;
}

const targetRef = { apiVersion: "apps/v1", kind: "Deployment", name: "simulated" };

/**
 * The swell policy the simulator runs by default; docs/simulator.md explains each choice. In short:
 * size on arrivals with 10% headroom, scale up at once when demand is 5% over the current size,
 * size a steady rise for where it will be one cold start ahead (its trend read over two cold
 * starts, at least 20 s, so noise rarely looks like a rise), scale down once demand has stayed 10%
 * below for one cold start, and panic on a surge. Tuned on the tuning seeds (random:1..30) and the
 * built-in traces; scored on random:1001..1200 (docs/simulator.md).
 */
export function swellPolicyInput(o: ScalerOptions): ScalingPolicySpecInput {
  return {
    targetRef,
    minReplicas: 1,
    maxReplicas: o.maxReplicas,
    metrics: [{ name: "requestRate", averageValue: 0.9 * o.serviceRate }],
    windowSeconds: 5,
    coldStartSeconds: o.coldStartSeconds,
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, tolerance: 0.05 },
      scaleDown: { stabilizationWindowSeconds: Math.round(o.coldStartSeconds), tolerance: 0.1 },
    },
    panic: { windowSeconds: 3, threshold: 1.5, stableWindowSeconds: 10 },
    lookahead: { windowSeconds: Math.max(20, 2 * o.coldStartSeconds) },
  };
}

/** swell: 1 s reports → AggregatedPoint → decide(), exactly as the controller would. */
export function swellScaler(policy: ScalingPolicySpec): Autoscaler {
  const history: AggregatedPoint[] = [];
  const horizon = historyHorizonMs(policy);
  let state: PolicyState | undefined;
  return (v) => {
    if (v.now % 1000 !== 0) return undefined;
    const from = v.now - 1000;
    if (v.ready > 0) {
      // Each ready pod's agent reports its share; the controller sums them.
      history.push({
        t: v.now,
        pods: v.ready,
        ready: v.ready,
        signals: {
          requestRate: v.arrived(from, v.now),
          completionRate: v.served(from, v.now),
          rejectRate: v.dropped(from, v.now),
          queueLength: v.queue,
        },
      });
    }
    while (history.length > 0 && (history[0] as AggregatedPoint).t <= v.now - horizon)
      history.shift();
    const input = { policy, history, currentReplicas: v.spec, readyReplicas: v.ready, now: v.now };
    const d = decide(state ? { ...input, state } : input);
    state = d.state;
    return d.desiredReplicas;
  };
}

/** The HPA's policy: HPA v2 defaults, AverageValue target = `target` × a replica's capacity. */
export function hpaPolicy(o: ScalerOptions, target: number): ScalingPolicySpec {
  return ScalingPolicySpec.parse({
    targetRef,
    minReplicas: 1,
    maxReplicas: o.maxReplicas,
    metrics: [{ name: "requestRate", averageValue: target * o.serviceRate }],
    // The HPA reads one (already averaged) value per sync.
    windowSeconds: 1,
    staleAfterSeconds: 60,
  });
}

export const HPA_SYNC_MS = 15_000;
const HPA_SCRAPE_MS = 15_000;

export function hpaScaler(o: ScalerOptions, target: number, phaseSeconds: number): Autoscaler {
  const policy = hpaPolicy(o, target);
  const phaseMs = phaseSeconds * 1000;
  let state: PolicyState | undefined;
  return (v) => {
    if ((((v.now - phaseMs) % HPA_SYNC_MS) + HPA_SYNC_MS) % HPA_SYNC_MS !== 0) return undefined;
    const to = v.now - o.hpaDelaySeconds * 1000;
    const rate = v.arrived(to - HPA_SCRAPE_MS, to) / (HPA_SCRAPE_MS / 1000);
    const pods = Math.max(1, v.ready);
    const history: AggregatedPoint[] = [
      { t: v.now, pods, ready: pods, signals: { requestRate: rate } },
    ];
    const input = { policy, history, currentReplicas: v.spec, readyReplicas: v.ready, now: v.now };
    const d = decide(state ? { ...input, state } : input);
    state = d.state;
    return d.desiredReplicas;
  };
}
