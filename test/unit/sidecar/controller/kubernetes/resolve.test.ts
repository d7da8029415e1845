import { describe, expect, it } from "vitest";
import { parseEnv } from "../../../../../services/kit/config.ts";
import { controllerEnv } from "../../../../../sidecar/controller/config.ts";
import {
  type HpaRef,
  type PolicyObject,
  resolvePolicies,
} from "../../../../../sidecar/controller/kubernetes/resolve.ts";
import {
  desiredStatus,
  statusChanged,
  withTransitions,
} from "../../../../../sidecar/controller/kubernetes/status.ts";

function object(
  name: string,
  target: string,
  extra: Record<string, unknown> = {},
  created = 0,
): PolicyObject {
  return {
    apiVersion: "scaling.swell.dev/v1alpha1",
    kind: "ScalingPolicy",
    metadata: {
      name,
      namespace: "ns",
      uid: `uid-${name}`,
      generation: 1,
      creationTimestamp: new Date(created).toISOString(),
    },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
      maxReplicas: 5,
      metrics: [{ name: "requestRate", averageValue: 10 }],
      ...extra,
    },
  };
}
const hpa = (target: string, namespace = "ns"): HpaRef => ({
  namespace,
  name: `${target}-hpa`,
  target: { apiVersion: "apps/v1", kind: "Deployment", name: target },
});

describe("resolvePolicies", () => {
  it("runs a valid policy as written", () => {
    const r = resolvePolicies([object("web", "web")], []);
    expect(r.effective.map((p) => [p.metadata.name, p.spec.mode])).toEqual([["web", "enforce"]]);
    const web = r.byUid.get("uid-web");
    expect([web?.invalid, web?.conflict]).toEqual([undefined, undefined]);
  });

  it.each([
    ["minReplicas above maxReplicas", { minReplicas: 9 }, "minReplicas"],
    [
      "a duplicate metric",
      {
        metrics: [
          { name: "requestRate", averageValue: 1 },
          { name: "requestRate", averageValue: 2 },
        ],
      },
      "duplicate",
    ],
    [
      "a schedule that starts where it ends",
      { prescale: { schedules: [{ name: "a", start: "10:00", end: "10:00", replicas: 2 }] } },
      "end",
    ],
  ])("skips a policy with %s, saying why", (_what, extra, needle) => {
    const r = resolvePolicies([object("web", "web", extra)], []);
    expect(r.effective).toEqual([]);
    expect(r.byUid.get("uid-web")?.invalid).toContain(needle);
  });

  it("decides but never scales a workload an HPA also targets", () => {
    const r = resolvePolicies(
      [object("web", "web"), object("api", "api")],
      [hpa("web"), hpa("api", "other-ns")],
    );
    expect(r.effective.map((p) => [p.metadata.name, p.spec.mode])).toEqual([
      ["web", "dryRun"],
      ["api", "enforce"],
    ]);
    expect(r.byUid.get("uid-web")?.conflict).toBe(
      "HorizontalPodAutoscaler web-hpa also targets Deployment web; swell leaves it alone",
    );
    expect(r.byUid.get("uid-api")?.conflict).toBeUndefined();
  });

  it("marks both of two policies on one workload, and runs only the older, in dryRun", () => {
    const r = resolvePolicies([object("b", "web", {}, 2000), object("a", "web", {}, 1000)], []);
    expect(r.effective.map((p) => [p.metadata.name, p.spec.mode])).toEqual([["a", "dryRun"]]);
    expect(r.byUid.get("uid-a")?.conflict).toContain("ScalingPolicy b also targets");
    expect(r.byUid.get("uid-b")?.conflict).toContain("ScalingPolicy a also targets");
  });
});

describe("policy status", () => {
  const resolved = resolvePolicies([object("web", "web")], []).byUid.get("uid-web");
  if (!resolved) throw new Error("fixture");

  it.each([
    [undefined, "True", "ReadyForNewScale"],
    [{ op: "get" as const, message: "HTTP 404", conflict: false }, "False", "FailedGetScale"],
    [{ op: "set" as const, message: "changed", conflict: true }, "False", "ScaleConflict"],
    [{ op: "set" as const, message: "HTTP 403", conflict: false }, "False", "FailedUpdateScale"],
  ])("AbleToScale follows the target's last trouble (%o)", (trouble, status, reason) => {
    const s = desiredStatus(resolved, undefined, trouble, "a");
    expect(s.conditions.find((c) => c.type === "AbleToScale")).toMatchObject({ status, reason });
  });

  it("keeps lastTransitionTime while a condition's status stays, and changes it when it flips", () => {
    const first = withTransitions(
      desiredStatus(resolved, undefined, undefined, "a"),
      undefined,
      "T1",
    );
    const same = desiredStatus(resolved, undefined, undefined, "a");
    expect(statusChanged(same, first)).toBe(false);
    const flipped = desiredStatus(
      resolved,
      undefined,
      { op: "get", message: "x", conflict: false },
      "a",
    );
    expect(statusChanged(flipped, first)).toBe(true);
    const next = withTransitions(flipped, first, "T2");
    const t = (type: string) => next.conditions.find((c) => c.type === type)?.lastTransitionTime;
    expect([t("AbleToScale"), t("ScalingActive"), t("ScalingLimited")]).toEqual(["T2", "T1", "T1"]);
  });
});

describe("controller config for the kubernetes backend", () => {
  it.each([
    [
      { SWELL_RENEW_DEADLINE: "15s" },
      "SWELL_RENEW_DEADLINE: expected less than SWELL_LEASE_DURATION",
    ],
    [{ SWELL_RETRY_PERIOD: "10s" }, "SWELL_RETRY_PERIOD: expected less than SWELL_RENEW_DEADLINE"],
    [{ SWELL_BACKEND: "cloud" }, "SWELL_BACKEND:"],
  ])("refuses %o naming the variable", (env, line) => {
    const r = parseEnv(controllerEnv, env);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.join("\n")).toContain(line);
  });

  it("takes client-go's lease timings by default", () => {
    const r = parseEnv(controllerEnv, { SWELL_BACKEND: "kubernetes" });
    expect(
      r.ok && [
        r.value.SWELL_LEASE_DURATION,
        r.value.SWELL_RENEW_DEADLINE,
        r.value.SWELL_RETRY_PERIOD,
      ],
    ).toEqual([15_000, 10_000, 2_000]);
  });
});
