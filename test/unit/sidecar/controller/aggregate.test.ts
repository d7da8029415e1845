import { describe, expect, it } from "vitest";
import { aggregate } from "../../../../sidecar/controller/aggregate.ts";
import { SIGNAL_NAMES } from "../../../../sidecar/protocol/signals.ts";
import { report, T0 } from "./fixtures.ts";

describe("aggregate", () => {
  it("sums signals over fresh ready pods and counts the rest by why they are left out", () => {
    const pods = [
      { report: report({ signals: { requestRate: 10, queueLength: 1 } }), receivedAt: T0 },
      { report: report({ signals: { requestRate: 5 } }), receivedAt: T0 - 1000 },
      { report: report({ app: "notReady", signals: { requestRate: 99 } }), receivedAt: T0 },
      { report: report({ app: "unreachable", signals: {} }), receivedAt: T0 },
      { report: report({ signals: { requestRate: 1000 } }), receivedAt: T0 - 6000 },
    ];
    expect(aggregate(pods, T0, 5000)).toEqual({
      t: T0,
      pods: 2,
      signals: { requestRate: 15, queueLength: 1 },
      notReady: 1,
      unreachable: 1,
      expired: 1,
    });
  });

  it("gives no signals, not zeros, when no pod is fresh", () => {
    const agg = aggregate([{ report: report(), receivedAt: T0 - 10_000 }], T0, 5000);
    expect(agg.pods).toBe(0);
    expect(agg.signals).toEqual({});
  });

  it.each(SIGNAL_NAMES)("sums %s over the pods that report it, and only that", (name) => {
    const pods = [
      { report: report({ signals: { [name]: 3 } }), receivedAt: T0 },
      { report: report({ signals: { [name]: 4.5 } }), receivedAt: T0 },
      { report: report({ signals: {} }), receivedAt: T0 },
    ];
    expect(aggregate(pods, T0, 5000).signals).toEqual({ [name]: 7.5 });
  });
});
