import { describe, expect, it } from "vitest";
import { type LiveEvent, LiveFeed } from "../../../../../sidecar/controller/ui/feed.ts";
import { type DecisionRecord, Workload } from "../../../../../sidecar/controller/workload.ts";
import { ScalingPolicy } from "../../../../../sidecar/protocol/policy.ts";

// The live page's feed: a bounded history per workload for pages opened later, every decision
// fanned out to the open streams, a policy change announced, and an end when the controller stops.

const policy = (maxReplicas = 10) =>
  ScalingPolicy.parse({
    apiVersion: "scaling.swell.dev/v1alpha1",
    kind: "ScalingPolicy",
    metadata: { name: "worker", namespace: "shop" },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "worker" },
      minReplicas: 1,
      maxReplicas,
      metrics: [{ name: "queueLength", averageValue: 10 }],
    },
  });
const record = (at: number, desired = 2): DecisionRecord => ({
  at,
  currentReplicas: 2,
  readyReplicas: 2,
  desiredReplicas: desired,
  reason: `keep ${desired}`,
  panic: false,
  dryRun: false,
  applied: false,
  leader: "a",
  stages: [],
});

describe("LiveFeed", () => {
  it.each([
    { name: "by count", keepMs: 1e9, maxSamples: 70, steps: 1000, most: 80 },
    { name: "by age", keepMs: 7_000, maxSamples: 1e6, steps: 1000, most: 80 },
  ])("keeps a bounded history ($name): the newest, at most a seventh over the bound", (c) => {
    const feed = new LiveFeed({ keepMs: c.keepMs, maxSamples: c.maxSamples });
    const w = new Workload("shop/worker", policy());
    for (let i = 0; i < c.steps; i++) feed.decided(w, record(i * 100), false);
    const { samples } = feed.subscribe([w], () => {});
    expect(samples.length).toBeGreaterThanOrEqual(70);
    expect(samples.length).toBeLessThanOrEqual(c.most);
    expect(samples.at(-1)?.t).toBe((c.steps - 1) * 100);
    const ts = samples.map((s) => s.t);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
  });

  it("tells listeners of each decision, a new policy once, and the end; drops removed workloads", () => {
    const feed = new LiveFeed();
    const w = new Workload("shop/worker", policy());
    const events: LiveEvent[] = [];
    const sub = feed.subscribe([w], (e) => events.push(e));
    expect(sub.workloads.map((x) => x.key)).toEqual(["shop/worker"]);
    feed.decided(w, record(1, 3), true);
    feed.decided(w, record(2, 3), false);
    w.policy = policy(20);
    feed.decided(w, record(3, 3), false);
    expect(events.map((e) => e.type)).toEqual([
      "workload",
      "sample",
      "sample",
      "workload",
      "sample",
    ]);
    const samples = events.filter((e) => e.type === "sample").map((e) => e.data);
    expect(samples[0]).toMatchObject({ desiredReplicas: 3, decision: { reason: "keep 3" } });
    expect(samples[1]).not.toHaveProperty("decision");
    expect(events[3]).toMatchObject({ type: "workload", data: { maxReplicas: 20 } });

    // A page opened after the policy went gets no history of it.
    expect(feed.subscribe([], () => {}).samples).toEqual([]);
    sub.unsubscribe();
    feed.stopped();
    expect(feed.ended).toBe(true);
    expect(events.at(-1)?.type).toBe("sample"); // unsubscribed: no end for it
  });
});
