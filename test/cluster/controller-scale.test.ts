// One controller process on the kubernetes backend, acting as the least-privilege ServiceAccount
// of k8s/base/controller/rbac.yaml: scales a Deployment through /scale within the policy's bounds
// (kwok brings the new pods to Ready), writes status and Events, refuses reports from pods of
// another workload, leaves a Deployment an HPA also targets alone, and explains an invalid policy.
import {
  ApiextensionsV1Api,
  AppsV1Api,
  AutoscalingV2Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ScaleTarget } from "../../sidecar/controller/backend.ts";
import { apiDiscovery } from "../../sidecar/controller/kubernetes/discovery.ts";
import {
  kubernetesScaleBackend,
  ScaleConflictError,
} from "../../sidecar/controller/kubernetes/scale-backend.ts";
import {
  applyControllerRbac,
  type ControllerProcess,
  condition,
  createPolicy,
  createWorkload,
  deploymentReplicas,
  eventsAbout,
  FakeAgent,
  installCrd,
  policyStatus,
  readyPods,
  reportLoop,
  startController,
  tempDir,
} from "./controller-harness.ts";
import { adminKubeConfig, createTestNamespace, waitFor } from "./kube.ts";

let kc: KubeConfig;
let ns: string;
let controller: ControllerProcess;
let webAgent: FakeAgent;
let stopWebReports: () => Promise<void> = async () => {};
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  kc = adminKubeConfig();
  await installCrd(kc);
  const created = await createTestNamespace(kc, "ctl");
  ns = created.name;
  cleanup.push(created.remove);
  const tmp = await tempDir();
  cleanup.push(tmp.remove);
  const kubeconfig = await applyControllerRbac(kc, ns, tmp.dir);
  controller = await startController({ name: "swell-controller-0", namespace: ns, kubeconfig });
  cleanup.push(() => controller.stop());
});
afterAll(async () => {
  await stopWebReports();
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

describe("the controller on Kubernetes", () => {
  it("scales a Deployment up through /scale to maxReplicas, and kwok brings the pods to Ready", async () => {
    await createWorkload(kc, ns, "web", 1);
    const [pod] = await readyPods(kc, ns, "web", 1);
    if (!pod) throw new Error("no pod");
    await createPolicy(kc, ns, "web", { target: "web", minReplicas: 1, maxReplicas: 3 });
    const agent = await new FakeAgent(pod, "web").init(kc);
    webAgent = agent;
    // 100 req/s at 10 per pod wants 10 replicas; maxReplicas is 3. The reports go on through the
    // status tests, so what they see is a steady state, not pods going silent.
    stopWebReports = reportLoop(
      [agent],
      () => controller.url,
      () => 100,
    );
    await waitFor(
      "web at 3 replicas",
      async () => (await deploymentReplicas(kc, ns, "web")).spec === 3,
      30_000,
    );
    await readyPods(kc, ns, "web", 3);
    // Bounds hold: it stays at 3 while the demand stays above.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await deploymentReplicas(kc, ns, "web")).spec).toBe(3);
  });

  it("writes the policy's status: replicas, last scale time, HPA-like conditions", async () => {
    const status = await waitFor(
      "status with 3 ready replicas",
      async () => {
        const s = await policyStatus(kc, ns, "web");
        return s.readyReplicas === 3 ? s : undefined;
      },
      20_000,
    );
    expect(status.currentReplicas).toBe(3);
    expect(status.desiredReplicas).toBe(3);
    expect(status.leader).toBe("swell-controller-0");
    expect(Date.parse(status.lastScaleTime ?? "")).toBeGreaterThan(Date.now() - 120_000);
    expect(condition(status, "AbleToScale")).toMatchObject({
      status: "True",
      reason: "ReadyForNewScale",
    });
    expect(condition(status, "ScalingLimited")).toMatchObject({
      status: "True",
      reason: "TooManyReplicas",
    });
    expect(condition(status, "ScalingLimited")?.lastTransitionTime).toMatch(/^\d{4}-/);
  });

  it("records a SuccessfulRescale Event on the policy, with the target as related object", async () => {
    const events = await waitFor("a SuccessfulRescale event", async () => {
      const list = await eventsAbout(kc, ns, "web");
      return list.some((e) => e.reason === "SuccessfulRescale") ? list : undefined;
    });
    const rescale = events.filter((e) => e.reason === "SuccessfulRescale");
    expect(rescale).toHaveLength(1);
    expect(rescale[0]).toMatchObject({
      type: "Normal",
      reportingController: "swell.dev/controller",
      reportingInstance: "swell-controller-0",
      regarding: { kind: "ScalingPolicy", name: "web" },
      related: { kind: "Deployment", name: "web" },
    });
    expect(rescale[0]?.note).toMatch(/^New size: 3 \(from 1\); reason: /);
  });

  it("does not write status again while nothing changes", async () => {
    const read = async () => {
      const o = await policyStatus(kc, ns, "web");
      return JSON.stringify(o);
    };
    const before = await read();
    await new Promise((r) => setTimeout(r, 2500)); // five ticks
    expect(await read()).toBe(before);
    await stopWebReports();
  });

  it("refuses a report from a pod of another workload (403), and one without a valid token (401)", async () => {
    await createWorkload(kc, ns, "other", 1);
    const [pod] = await readyPods(kc, ns, "other", 1);
    if (!pod) throw new Error("no pod");
    await createPolicy(kc, ns, "other", { target: "other", minReplicas: 1, maxReplicas: 2 });
    const other = await new FakeAgent(pod, "other").init(kc);
    await waitFor(
      "the other policy known",
      async () => (await other.report(controller.url, 1)) === 202,
    );

    expect(await other.report(controller.url, 1, { workload: "web" })).toBe(403);
    // Its own workload, but claiming to be another pod.
    expect(await other.report(controller.url, 1, { pod: { name: "web-x", uid: "1234" } })).toBe(
      403,
    );
    expect(await other.report(controller.url, 1, { token: "" })).toBe(401);
    expect(await other.report(controller.url, 1, { token: "not-a-token" })).toBe(401);
  });

  it("lets a pod raise the floor (prescale) of its own workload only", async () => {
    const prescale = (token: string) =>
      fetch(`${controller.url}/v1/workloads/${ns}/web/prescale`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ replicas: 2, ttlSeconds: 5, reason: "batch coming" }),
      }).then((r) => r.status);
    const [otherPod] = await readyPods(kc, ns, "other", 1);
    if (!otherPod) throw new Error("no pod");
    const other = await new FakeAgent(otherPod, "other").init(kc);
    expect(await prescale(other.token)).toBe(403);
    expect(await prescale(webAgent.token)).toBe(202);
  });

  it("leaves a Deployment an HPA also targets alone, and says why in status and an Event", async () => {
    await createWorkload(kc, ns, "held", 1);
    const [pod] = await readyPods(kc, ns, "held", 1);
    if (!pod) throw new Error("no pod");
    await kc.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
      namespace: ns,
      body: {
        metadata: { name: "held-hpa" },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "held" },
          minReplicas: 1,
          maxReplicas: 2,
          metrics: [
            {
              type: "Resource",
              resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
            },
          ],
        },
      },
    });
    await createPolicy(kc, ns, "held", { target: "held", minReplicas: 1, maxReplicas: 5 });
    const agent = await new FakeAgent(pod, "held").init(kc);
    const stop = reportLoop(
      [agent],
      () => controller.url,
      () => 100,
    );
    try {
      // It decides (the status says what it would do: maxReplicas) but writes nothing.
      const status = await waitFor("a ConflictingAutoscaler condition and a decision", async () => {
        const s = await policyStatus(kc, ns, "held");
        return condition(s, "AbleToScale")?.reason === "ConflictingAutoscaler" &&
          s.desiredReplicas === 5
          ? s
          : undefined;
      });
      expect(condition(status, "AbleToScale")?.status).toBe("False");
      expect(condition(status, "AbleToScale")?.message).toContain(
        "HorizontalPodAutoscaler held-hpa",
      );
      const events = await waitFor("a ConflictingAutoscaler event", async () => {
        const list = await eventsAbout(kc, ns, "held");
        return list.some((e) => e.reason === "ConflictingAutoscaler") ? list : undefined;
      });
      expect(events.find((e) => e.reason === "ConflictingAutoscaler")?.type).toBe("Warning");
      expect(events.some((e) => e.reason === "SuccessfulRescale")).toBe(false);
      await new Promise((r) => setTimeout(r, 1500));
      expect((await deploymentReplicas(kc, ns, "held")).spec).toBe(1);
    } finally {
      await stop();
    }
  });

  it("scales with neither of two policies on one workload, and says so on both", async () => {
    // "other" has a policy (max 2) and one pod reporting little; this one alone would make it 2.
    await createPolicy(kc, ns, "other-floor", { target: "other", minReplicas: 2, maxReplicas: 4 });
    for (const [name, peer] of [
      ["other", "other-floor"],
      ["other-floor", "other"],
    ] as const) {
      const s = await waitFor(`${name}: a ConflictingAutoscaler condition`, async () => {
        const st = await policyStatus(kc, ns, name);
        return condition(st, "AbleToScale")?.reason === "ConflictingAutoscaler" ? st : undefined;
      });
      expect(condition(s, "AbleToScale")?.message).toContain(`ScalingPolicy ${peer} also targets`);
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect((await deploymentReplicas(kc, ns, "other")).spec).toBe(1);
  });

  it("explains a policy the CRD schema lets through but swell's schema refuses", async () => {
    // minReplicas > maxReplicas: each field is valid alone, so only zod sees it.
    await createPolicy(kc, ns, "upside-down", {
      target: "nothing",
      minReplicas: 5,
      maxReplicas: 2,
    });
    const status = await waitFor("an InvalidPolicy condition", async () => {
      const s = await policyStatus(kc, ns, "upside-down");
      return condition(s, "ScalingActive")?.reason === "InvalidPolicy" ? s : undefined;
    });
    expect(condition(status, "ScalingActive")?.message).toContain("minReplicas");
    const events = await eventsAbout(kc, ns, "upside-down");
    expect(events.map((e) => e.reason)).toContain("InvalidPolicy");
  });

  it("never logs a token (a JWT starts with eyJ)", () => {
    expect(controller.logs.length).toBeGreaterThan(0);
    expect(controller.logs.filter((l) => l.includes("eyJ") || l.includes(webAgent.token))).toEqual(
      [],
    );
  });

  it("never reads or writes with more rights than rbac.yaml grants (no Forbidden in its log)", () => {
    expect(controller.logs.filter((l) => /forbidden|HTTP 403/i.test(l))).toEqual([]);
  });
});

describe("the /scale backend, against a concurrent change of replicas", () => {
  it("never overwrites it: the write conflicts (409, counted), and a fresh read lets the next one through", async () => {
    await createWorkload(kc, ns, "plain", 2);
    await readyPods(kc, ns, "plain", 2);
    const registry = new Registry();
    const backend = kubernetesScaleBackend(kc, apiDiscovery(kc), registry);
    const target = { namespace: ns, apiVersion: "apps/v1", kind: "Deployment", name: "plain" };
    expect((await backend.get(target)).replicas).toBe(2);

    // Someone scales it by hand between the controller's read and its write (like
    // `kubectl scale`: a merge patch of /scale without a resourceVersion).
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.patchNamespacedDeploymentScale(
      { name: "plain", namespace: ns, body: { spec: { replicas: 1 } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );

    await expect(backend.set(target, 4, "test")).rejects.toBeInstanceOf(ScaleConflictError);
    expect((await deploymentReplicas(kc, ns, "plain")).spec).toBe(1);
    expect(backend.trouble(target)).toMatchObject({ op: "set", conflict: true });
    const conflicts = await registry.getSingleMetric("swell_scale_conflicts_total")?.get();
    expect(conflicts?.values).toEqual([{ labels: { workload: `${ns}/plain` }, value: 1 }]);

    // The next round reads the new count and may then write. (While the Deployment controller
    // is still updating its status, each of its writes also changes the resourceVersion: a write
    // can conflict again, and the round after that goes through, as the controller's ticks do.)
    let read = 0;
    await waitFor("a write after a fresh read", async () => {
      read = (await backend.get(target)).replicas;
      if (read !== 1) return undefined;
      return backend.set(target, 4, "test").then(
        () => true,
        (err: unknown) => {
          if (err instanceof ScaleConflictError) return false;
          throw err;
        },
      );
    });
    expect((await deploymentReplicas(kc, ns, "plain")).spec).toBe(4);
    expect(backend.trouble(target)).toBeUndefined();
  });
});

/**
 * get then set, again after a conflict, as the controller's ticks do: a workload's controller
 * writing its status also moves the resourceVersion that the write carries.
 */
async function resize(
  backend: ReturnType<typeof kubernetesScaleBackend>,
  target: ScaleTarget,
  n: number,
) {
  await waitFor(`${target.kind} ${target.name} set to ${n}`, async () => {
    await backend.get(target);
    return backend.set(target, n, "test").then(
      () => true,
      (err: unknown) => {
        if (err instanceof ScaleConflictError) return false;
        throw err;
      },
    );
  });
}

describe("the /scale backend, for any kind with a scale subresource", () => {
  it("resizes a StatefulSet, with readyReplicas from its status", async () => {
    const labels = { app: "db" };
    await kc.makeApiClient(AppsV1Api).createNamespacedStatefulSet({
      namespace: ns,
      body: {
        metadata: { name: "db" },
        spec: {
          serviceName: "db",
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: "db", image: "registry.k8s.io/pause:3.10" }] },
          },
        },
      },
    });
    const backend = kubernetesScaleBackend(kc, apiDiscovery(kc), new Registry());
    const target = { namespace: ns, apiVersion: "apps/v1", kind: "StatefulSet", name: "db" };
    await waitFor(
      "db with 1 ready replica",
      async () => (await backend.get(target)).readyReplicas === 1,
    );
    await resize(backend, target, 2);
    const status = await waitFor("db with 2 ready replicas", async () => {
      const st = await backend.get(target);
      return st.readyReplicas === 2 ? st : undefined;
    });
    expect(status.replicas).toBe(2);
  });

  it("resizes a custom resource found by discovery, and refuses a kind without /scale", async () => {
    const group = `scale-${ns}.swell.dev`;
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: `gizmos.${group}` },
        spec: {
          group,
          scope: "Namespaced",
          names: { plural: "gizmos", singular: "gizmo", kind: "Gizmo", listKind: "GizmoList" },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              subresources: {
                scale: {
                  specReplicasPath: ".spec.replicas",
                  statusReplicasPath: ".status.replicas",
                },
              },
              schema: {
                openAPIV3Schema: {
                  type: "object",
                  properties: {
                    spec: { type: "object", properties: { replicas: { type: "integer" } } },
                    status: { type: "object", properties: { replicas: { type: "integer" } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    cleanup.push(() => ext.deleteCustomResourceDefinition({ name: `gizmos.${group}` }));
    const custom = kc.makeApiClient(CustomObjectsApi);
    await waitFor("a Gizmo stored", () =>
      custom.createNamespacedCustomObject({
        group,
        version: "v1",
        namespace: ns,
        plural: "gizmos",
        body: {
          apiVersion: `${group}/v1`,
          kind: "Gizmo",
          metadata: { name: "g" },
          spec: { replicas: 2 },
        },
      }),
    );
    const backend = kubernetesScaleBackend(kc, apiDiscovery(kc), new Registry());
    const target = { namespace: ns, apiVersion: `${group}/v1`, kind: "Gizmo", name: "g" };
    expect(await backend.get(target)).toEqual({ replicas: 2, readyReplicas: 0 });
    await resize(backend, target, 5);
    const g = (await custom.getNamespacedCustomObject({
      group,
      version: "v1",
      namespace: ns,
      plural: "gizmos",
      name: "g",
    })) as { spec: { replicas: number } };
    expect(g.spec.replicas).toBe(5);

    // Kinds without a /scale are refused before any write: the core group, then a Role.
    await expect(
      backend.get({ namespace: ns, apiVersion: "v1", kind: "ConfigMap", name: "x" }),
    ).rejects.toThrow(/core API group/);
    await expect(
      backend.get({
        namespace: ns,
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        name: "x",
      }),
    ).rejects.toThrow(/no \/scale subresource/);
  });
});
