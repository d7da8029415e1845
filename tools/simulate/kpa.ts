/**
 * Knative Serving's KPA with its defaults, on its default `concurrency` metric or on `rps`,
 * written from the docs:
 * https://knative.dev/docs/serving/autoscaling/kpa-specific/ (stable window 60 s, panic window
 * 10% of it, panic threshold 200%), https://knative.dev/docs/serving/autoscaling/autoscaling-targets/
 * (target utilization 70%), config-autoscaler (tick-interval 2s, max-scale-up-rate 1000,
 * max-scale-down-rate 2), and the decider in knative/serving pkg/autoscaler/scaling/autoscaler.go:
 *
 *   per tick: stable and panic averages of the metric over their windows;
 *   desired stable/panic = ceil(average / target), kept within [floor(ready / maxScaleDownRate),
 *   ceil(ready × maxScaleUpRate)]; panic starts when desired panic / ready >= threshold, and ends
 *   once it has not been over the threshold for a stable window; while panicking, the size is the
 *   larger of the two and never goes down (the highest size of this panic is kept).
 *
 * The collector takes one sample a second (the autoscaler scrapes the queue-proxies every second).
 * Concurrency is the requests in the pods plus those buffered by the activator (which reports
 * them to the autoscaler: pkg/activator/handler/concurrency_reporter.go): the second's completions
 * × the service time, plus the time-average of the queue over that second. A pod serves
 * `containerConcurrency` requests at a time, each taking containerConcurrency / serviceRate s.
 */
import type { Autoscaler } from "./model.ts";

export interface KpaOptions {
  /** `concurrency` (Knative's default) or `rps` (the `autoscaling.knative.dev/metric` annotation) */
  metric: "concurrency" | "rps";
  /**
   * per-pod value the service is sized for before the utilization: containerConcurrency for
   * concurrency, the requests/s one pod serves for rps (the `autoscaling.knative.dev/target` annotation)
   */
  target: number;
  /** seconds one request takes in a pod (concurrency only) */
  serviceTimeSeconds: number;
  targetUtilization: number;
  stableWindowSeconds: number;
  panicWindowPercentage: number;
  panicThreshold: number;
  maxScaleUpRate: number;
  maxScaleDownRate: number;
  tickMs: number;
  minScale: number;
  maxScale: number;
}

export const KPA_DEFAULTS = {
  targetUtilization: 0.7,
  stableWindowSeconds: 60,
  panicWindowPercentage: 10,
  panicThreshold: 2,
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
  tickMs: 2000,
  minScale: 1,
} as const;

export function kpaScaler(o: KpaOptions): Autoscaler {
  const target = Math.max(0.01, o.target * o.targetUtilization);
  const stableN = o.stableWindowSeconds;
  const panicN = Math.max(1, Math.round((o.stableWindowSeconds * o.panicWindowPercentage) / 100));
  const samples: number[] = [];
  let panicTime: number | undefined;
  let maxPanicPods = 0;
  const avg = (n: number) => {
    const xs = samples.slice(-n);
    return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  return (v) => {
    if (v.now % 1000 === 0) {
      const from = v.now - 1000;
      samples.push(
        o.metric === "rps"
          ? v.arrived(from, v.now)
          : v.served(from, v.now) * o.serviceTimeSeconds + v.waited(from, v.now),
      );
      if (samples.length > stableN) samples.shift();
    }
    if (v.now % o.tickMs !== 0 || samples.length === 0) return undefined;
    const ready = Math.max(1, v.ready);
    const maxUp = Math.ceil(o.maxScaleUpRate * ready);
    const maxDown = Math.floor(ready / o.maxScaleDownRate);
    const dspc = Math.ceil(avg(stableN) / target);
    const dppc = Math.ceil(avg(panicN) / target);
    const stable = Math.min(Math.max(dspc, maxDown), maxUp);
    const panic = Math.min(Math.max(dppc, maxDown), maxUp);
    const over = dppc / ready >= o.panicThreshold;
    if (over) panicTime = v.now;
    else if (panicTime !== undefined && panicTime + o.stableWindowSeconds * 1000 < v.now) {
      panicTime = undefined;
      maxPanicPods = 0;
    }
    let desired = stable;
    if (panicTime !== undefined) {
      desired = Math.max(desired, panic);
      maxPanicPods = Math.max(maxPanicPods, desired);
      desired = maxPanicPods;
    }
    return Math.min(o.maxScale, Math.max(o.minScale, desired));
  };
}
