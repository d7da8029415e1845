// The cluster under test does what swell relies on: Deployments get Ready pods on kwok nodes,
// the /scale subresource with optimistic concurrency, Leases, CRDs with schema validation,
// the HPA controller, and pod-bound ServiceAccount tokens for swell's own audience.
import {
  ApiextensionsV1Api,
  AppsV1Api,
  AutoscalingV2Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  V1MicroTime,
  type V1Pod,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  adminKubeConfig,
  apiStatus,
  createTestNamespace,
  requestServiceAccountToken,
  reviewToken,
  waitFor,
} from "./kube.ts";

let kc: KubeConfig;
let ns: string;
let removeNamespace: () => Promise<void>;

beforeAll(async () => {
  kc = adminKubeConfig();
  const created = await createTestNamespace(kc, "smoke");
  ns = created.name;
  removeNamespace = created.remove;
});
afterAll(async () => {
  await removeNamespace?.();
});

const isReady = (pod: V1Pod) =>
  pod.status?.phase === "Running" &&
  (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

/** Pods of the app that are not being deleted. */
async function livePods(app: string): Promise<V1Pod[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** Waits until the app has exactly n pods, all Running and Ready. */
async function waitForReadyPods(app: string, n: number): Promise<V1Pod[]> {
  return waitFor(`${n} Ready pods of ${app}`, async () => {
    const pods = await livePods(app);
    return pods.length === n && pods.every(isReady) ? pods : undefined;
  });
}

function deployment(name: string, replicas: number): V1Deployment {
  const labels = { app: name };
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        // kwok runs no containers: the image is never pulled.
        spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }] },
      },
    },
  };
}

describe("a Deployment on kwok nodes", () => {
  const name = "web";

  it("gets its 2 pods scheduled on kwok nodes, Running and Ready", async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment(name, 2) });
    const pods = await waitForReadyPods(name, 2);
    const core = kc.makeApiClient(CoreV1Api);
    for (const pod of pods) {
      expect(pod.spec?.nodeName).toMatch(/.+/);
      const node = await core.readNode({ name: pod.spec?.nodeName ?? "" });
      // Another cluster (SWELL_TEST_KUBECONFIG) may run pods on real nodes.
      if (!inject("externalCluster")) expect(node.metadata?.labels?.type).toBe("kwok");
      expect(pod.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    }
    const status = await waitFor("Deployment status readyReplicas 2", async () => {
      const d = await apps.readNamespacedDeployment({ name, namespace: ns });
      return d.status?.readyReplicas === 2 ? d.status : undefined;
    });
    expect(status.availableReplicas).toBe(2);
  });

  it("follows its /scale subresource up, refusing a stale resourceVersion", async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const scale = await apps.readNamespacedDeploymentScale({ name, namespace: ns });
    expect(scale.spec?.replicas).toBe(2);
    expect(scale.status?.selector).toBe(`app=${name}`);
    const staleVersion = scale.metadata?.resourceVersion;
    expect(staleVersion).toBeTruthy();

    const written = await apps.replaceNamespacedDeploymentScale({
      name,
      namespace: ns,
      body: { ...scale, spec: { replicas: 4 } },
    });
    expect(written.spec?.replicas).toBe(4);
    await waitForReadyPods(name, 4);

    // A writer that read before the change must not overwrite it blindly.
    const conflict = await apps
      .replaceNamespacedDeploymentScale({
        name,
        namespace: ns,
        body: { ...scale, spec: { replicas: 3 } },
      })
      .then(
        () => 200,
        (err: unknown) => apiStatus(err),
      );
    expect(conflict).toBe(409);
    expect((await apps.readNamespacedDeploymentScale({ name, namespace: ns })).spec?.replicas).toBe(
      4,
    );
  });

  it("follows a merge patch of /scale down, and kwok removes the deleted pods", async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const current = await apps.readNamespacedDeploymentScale({ name, namespace: ns });
    await apps.patchNamespacedDeploymentScale(
      {
        name,
        namespace: ns,
        body: {
          metadata: { resourceVersion: current.metadata?.resourceVersion },
          spec: { replicas: 1 },
        },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await waitForReadyPods(name, 1);
    const core = kc.makeApiClient(CoreV1Api);
    await waitFor("the scaled-down pods gone (not just terminating)", async () => {
      const all = await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${name}` });
      return all.items.length === 1;
    });
  });

  it("is seen by the HPA controller when an HPA targets it", async () => {
    const autoscaling = kc.makeApiClient(AutoscalingV2Api);
    await autoscaling.createNamespacedHorizontalPodAutoscaler({
      namespace: ns,
      body: {
        metadata: { name },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
          minReplicas: 1,
          maxReplicas: 3,
          metrics: [
            {
              type: "Resource",
              resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
            },
          ],
        },
      },
    });
    // No metrics server here, so the HPA cannot compute a size; what matters is that the
    // controller runs and reports on the target, as it would for a workload swell must avoid.
    const conditions = await waitFor(
      "HPA status conditions",
      async () => {
        const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({
          name,
          namespace: ns,
        });
        const c = hpa.status?.conditions ?? [];
        return c.length > 0 ? c : undefined;
      },
      90_000,
    );
    expect(conditions.map((c) => c.type)).toContain("AbleToScale");
  });
});

describe("a Lease", () => {
  it("is created, renewed with its resourceVersion, and a stale renewal conflicts", async () => {
    const coordination = kc.makeApiClient(CoordinationV1Api);
    // Lease times are MicroTime (6 fractional digits): a plain Date is refused with 400.
    const now = new V1MicroTime();
    const created = await coordination.createNamespacedLease({
      namespace: ns,
      body: {
        metadata: { name: "smoke-leader" },
        spec: {
          holderIdentity: "a",
          leaseDurationSeconds: 15,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        },
      },
    });
    expect(created.spec?.holderIdentity).toBe("a");

    const renewed = await coordination.replaceNamespacedLease({
      name: "smoke-leader",
      namespace: ns,
      body: { ...created, spec: { ...created.spec, renewTime: new V1MicroTime() } },
    });
    expect(renewed.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);

    const stale = await coordination
      .replaceNamespacedLease({
        name: "smoke-leader",
        namespace: ns,
        body: { ...created, spec: { ...created.spec, holderIdentity: "b" } },
      })
      .then(
        () => 200,
        (err: unknown) => apiStatus(err),
      );
    expect(stale).toBe(409);
  });
});

describe("a CustomResourceDefinition", () => {
  const group = "smoke.swell.dev";
  const plural = `widgets${Math.random().toString(36).slice(2, 8)}`;
  const crdName = `${plural}.${group}`;

  afterAll(async () => {
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.deleteCustomResourceDefinition({ name: crdName }).catch(() => {});
  });

  it("is established, stores a valid object and rejects an invalid one", async () => {
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group,
          scope: "Namespaced",
          names: { plural, singular: plural, kind: "Widget", listKind: "WidgetList" },
          versions: [
            {
              name: "v1alpha1",
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: "object",
                  properties: {
                    spec: {
                      type: "object",
                      required: ["size"],
                      properties: { size: { type: "integer", minimum: 1 } },
                    },
                  },
                },
              },
            },
          ],
        },
      },
    });
    await waitFor("CRD Established", async () => {
      const crd = await ext.readCustomResourceDefinition({ name: crdName });
      return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    });

    const custom = kc.makeApiClient(CustomObjectsApi);
    const create = (size: number) =>
      custom.createNamespacedCustomObject({
        group,
        version: "v1alpha1",
        namespace: ns,
        plural,
        body: {
          apiVersion: `${group}/v1alpha1`,
          kind: "Widget",
          metadata: { name: `w${size}` },
          spec: { size },
        },
      });
    // Discovery of a new CRD takes a moment to reach every apiserver handler.
    await waitFor("a valid Widget stored", async () => (await create(2)) as object);
    const invalid = await create(0).then(
      () => 200,
      (err: unknown) => apiStatus(err),
    );
    expect(invalid).toBe(422);
  });
});

describe("a ServiceAccount token for audience swell, bound to a pod", () => {
  it("is accepted by a TokenReview naming swell, with the pod in the user's extra claims", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({
      namespace: ns,
      body: { metadata: { name: "agent" } },
    });
    const pod = await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: "agent-pod", labels: { app: "agent" } },
        spec: {
          serviceAccountName: "agent",
          containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }],
        },
      },
    });
    const podRef = { name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" };
    expect(podRef.uid).not.toBe("");
    const token = await requestServiceAccountToken(kc, {
      namespace: ns,
      serviceAccount: "agent",
      audience: "swell",
      pod: podRef,
      expirationSeconds: 600,
    });

    const review = await reviewToken(kc, token, ["swell"]);
    expect(review.error ?? "").toBe("");
    expect(review.authenticated).toBe(true);
    expect(review.audiences).toContain("swell");
    expect(review.user?.username).toBe(`system:serviceaccount:${ns}:agent`);
    expect(review.user?.extra?.["authentication.kubernetes.io/pod-name"]).toEqual([podRef.name]);
    expect(review.user?.extra?.["authentication.kubernetes.io/pod-uid"]).toEqual([podRef.uid]);
  });

  it("is refused for the API's own audience, and once its pod is gone", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const pod = await core.readNamespacedPod({ name: "agent-pod", namespace: ns });
    const token = await requestServiceAccountToken(kc, {
      namespace: ns,
      serviceAccount: "agent",
      audience: "swell",
      pod: { name: "agent-pod", uid: pod.metadata?.uid ?? "" },
    });
    // Default audiences of the review: the API's own; a swell token is not an API credential.
    const forApi = await reviewToken(kc, token, []);
    expect(forApi.authenticated).not.toBe(true);

    await core.deleteNamespacedPod({ name: "agent-pod", namespace: ns });
    await waitFor("the pod deleted", async () =>
      core.readNamespacedPod({ name: "agent-pod", namespace: ns }).then(
        () => false,
        () => true,
      ),
    );
    const afterDelete = await reviewToken(kc, token, ["swell"]);
    expect(afterDelete.authenticated).not.toBe(true);
  });
});
