import { describe, expect, it } from "vitest";
import { createRegistry } from "../../../../services/kit/metrics.ts";
import { createControllerMetrics } from "../../../../sidecar/controller/metrics.ts";
import { ScalingPolicySpec } from "../../../../sidecar/protocol/policy.ts";

// The gauges the monitoring component's dashboard and alerts read: what the policy saw and is
// bound by, kept in step with the policy and the aggregate, and gone with the workload.

const spec = (over: Record<string, unknown> = {}) =>
  ScalingPolicySpec.parse({
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "worker" },
    minReplicas: 1,
    maxReplicas: 10,
    metrics: [{ name: "requestRate", averageValue: 15 }],
    ...over,
  });
const agg = (signals: Record<string, number>, pods = 2) => ({
  t: 0,
  pods,
  signals,
  notReady: 0,
  unreachable: 0,
  expired: 0,
});

async function series(registry: ReturnType<typeof createRegistry>): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split("\n")
    .filter((l) => /^swell_(policy|reporting|workload)/.test(l))
    .sort();
}

describe("controller metrics: observeInputs", () => {
  it("follows the policy and the signals it saw, and forgets the workload", async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const m = createControllerMetrics(registry);
    const first = spec();
    m.observeInputs("shop/worker", first, agg({ requestRate: 30, queueLength: 4 }));
    expect(await series(registry)).toEqual([
      'swell_policy_dry_run{workload="shop/worker"} 0',
      'swell_policy_max_replicas{workload="shop/worker"} 10',
      'swell_policy_min_replicas{workload="shop/worker"} 1',
      'swell_reporting_pods{workload="shop/worker"} 2',
      'swell_workload_signal_target{workload="shop/worker",signal="requestRate"} 15',
      'swell_workload_signal{workload="shop/worker",signal="queueLength"} 4',
      'swell_workload_signal{workload="shop/worker",signal="requestRate"} 30',
    ]);

    // A signal no pod reports any more is gone, not left at its last value; a new policy's
    // bounds, mode and targets replace the old ones.
    const second = spec({
      maxReplicas: 20,
      mode: "dryRun",
      metrics: [{ name: "queueLength", averageValue: 5 }],
    });
    m.observeInputs("shop/worker", second, agg({ queueLength: 6 }, 3));
    expect(await series(registry)).toEqual([
      'swell_policy_dry_run{workload="shop/worker"} 1',
      'swell_policy_max_replicas{workload="shop/worker"} 20',
      'swell_policy_min_replicas{workload="shop/worker"} 1',
      'swell_reporting_pods{workload="shop/worker"} 3',
      'swell_workload_signal_target{workload="shop/worker",signal="queueLength"} 5',
      'swell_workload_signal{workload="shop/worker",signal="queueLength"} 6',
    ]);

    m.forget("shop/worker");
    expect(await series(registry)).toEqual([]);
    // Observed again after being forgotten: everything is set anew.
    m.observeInputs("shop/worker", second, agg({}, 0));
    expect(await series(registry)).toContain(
      'swell_policy_max_replicas{workload="shop/worker"} 20',
    );
  });
});
