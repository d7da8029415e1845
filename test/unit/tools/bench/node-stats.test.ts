// The pure parts of the real node's stats: readings from a Summary API answer, their summary,
// quantities and pod start times. The sampler itself runs against a real kubelet in
// test/node/node-stats.test.ts.
import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  type KubeletSummary,
  memoryLimitBytes,
  parseQuantity,
  podStartSeconds,
  readingsOf,
  summarise,
} from "../../../../tools/bench/node-stats.ts";

const container = (name: string, time: string, ws: number, cpu?: number) => ({
  name,
  cpu: { time, ...(cpu === undefined ? {} : { usageNanoCores: cpu }) },
  memory: { time, workingSetBytes: ws, rssBytes: ws / 2 },
});

const summaryAt = (time: string, agentWs: number, cpu?: number): KubeletSummary => ({
  pods: [
    {
      podRef: { name: "api-1", namespace: "swell", uid: "u1" },
      containers: [container("api", time, 50e6, cpu), container("swell-agent", time, agentWs, cpu)],
    },
    {
      podRef: { name: "other", namespace: "kube-system", uid: "u9" },
      containers: [container("x", time, 1)],
    },
    { podRef: { name: "gone", namespace: "swell", uid: "u-unknown" }, containers: [] },
  ],
});

describe("readingsOf", () => {
  it("keeps the namespace's pods of known workloads, keyed workload/container", () => {
    const r = readingsOf(summaryAt("t1", 30e6, 5e6), "swell", (uid) =>
      uid === "u1" ? "api" : undefined,
    );
    expect(r.map((x) => x.key)).toEqual(["api/api", "api/swell-agent"]);
    expect(r[1]).toMatchObject({ podUid: "u1", workingSetBytes: 30e6, usageNanoCores: 5e6 });
  });

  it("skips a container with no stats time yet", () => {
    const summary: KubeletSummary = {
      pods: [{ podRef: { name: "a", namespace: "swell", uid: "u1" }, containers: [{ name: "a" }] }],
    };
    expect(readingsOf(summary, "swell", () => "api")).toEqual([]);
  });
});

describe("summarise", () => {
  const of = (s: KubeletSummary) => readingsOf(s, "swell", () => "api");

  it("counts a kubelet reading once however often it was sampled", () => {
    const readings = [
      ...of(summaryAt("t1", 30e6, 4e6)),
      ...of(summaryAt("t1", 30e6, 4e6)),
      ...of(summaryAt("t1", 30e6, 4e6)),
      ...of(summaryAt("t2", 40e6, 6e6)),
    ];
    const s = summarise(readings)["api/swell-agent"];
    expect(s).toEqual({
      readings: 2,
      pods: 1,
      workingSetBytes: { p50: 35e6, max: 40e6 },
      rssBytes: { p50: 17.5e6, max: 20e6 },
      cpuNanoCores: { p50: 5e6, max: 6e6 },
    });
  });

  it("leaves CPU out while the kubelet has no rate yet", () => {
    expect(summarise(of(summaryAt("t1", 30e6)))["api/api"]?.cpuNanoCores).toBeUndefined();
  });

  it("is empty for no readings", () => {
    expect(summarise([])).toEqual({});
  });
});

describe("parseQuantity", () => {
  it.each([
    ["128Mi", 128 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["64Ki", 65536],
    ["1G", 1e9],
    ["500M", 5e8],
    ["1024", 1024],
    ["1.5Gi", 1.5 * 2 ** 30],
  ])("%s = %d bytes", (q, bytes) => {
    expect(parseQuantity(q)).toBe(bytes);
  });

  it.each(["", "Mi", "12Q", "-1Mi", "100m"])("rejects %j", (q) => {
    expect(() => parseQuantity(q)).toThrow(/not a byte quantity/);
  });
});

describe("memoryLimitBytes and podStartSeconds", () => {
  const pod: V1Pod = {
    metadata: { creationTimestamp: new Date("2026-01-01T00:00:00Z") },
    spec: {
      initContainers: [{ name: "swell-agent", resources: { limits: { memory: "128Mi" } } }],
      containers: [{ name: "api", resources: { limits: { memory: "256Mi" } } }, { name: "bare" }],
    },
    status: {
      conditions: [
        {
          type: "PodScheduled",
          status: "True",
          lastTransitionTime: new Date("2026-01-01T00:00:01Z"),
        },
        { type: "Ready", status: "True", lastTransitionTime: new Date("2026-01-01T00:00:07Z") },
      ],
    },
  };

  it.each([
    ["swell-agent", 128 * 2 ** 20],
    ["api", 256 * 2 ** 20],
    ["bare", undefined],
    ["missing", undefined],
  ])("the limit of %s", (name, bytes) => {
    expect(memoryLimitBytes(pod, name)).toBe(bytes);
  });

  it("counts from created to scheduled and to Ready", () => {
    expect(podStartSeconds(pod)).toEqual({ scheduled: 1, ready: 7 });
  });

  it("has no Ready time while the pod is not Ready", () => {
    const notReady: V1Pod = {
      ...pod,
      status: { conditions: [{ type: "Ready", status: "False" }] },
    };
    expect(podStartSeconds(notReady)).toEqual({ scheduled: undefined, ready: undefined });
  });
});
