// `npm run bench -- --only metrics-api`: how long a plain HPA on swell's metrics takes from a
// report's rise to its scale write, next to swell's own controller on the same step, on a local
// control plane (tools/cluster) with the real kube-controller-manager's HPA controller.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ApiextensionsV1Api,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  loadAllYaml,
  type V1Pod,
} from "@kubernetes/client-node";
import { ensureBinaries } from "../cluster/binaries.ts";
import { startControlPlane } from "../cluster/control-plane.ts";
import { ip } from "../cluster/net.ts";
import type { BenchContext } from "./context.ts";
import { startProgram, waitHealthy } from "./proc.ts";
import { percentile } from "./stats.ts";

export interface MetricsApiResult {
  /** From the step in the reports to the HPA's scale write (Deployment spec.replicas). */
  reactionP50Ms: number;
  reactionP95Ms: number;
  hpaRunsMs: number[];
  /** The same step, the same way measured, with a ScalingPolicy (with panic) on a twin Deployment. */
  swellP50Ms: number;
  swellP95Ms: number;
  swellRunsMs: number[];
  /** The test control plane's --horizontal-pod-autoscaler-sync-period. */
  hpaSyncSeconds: number;
}

const NS = "bench";
const HPA_SYNC_SECONDS = 5;
const PER_POD_TARGET = 10;
/** The step: the queue each workload reports goes from 0 to this (4 replicas' worth). */
const STEP = 40;
const LINK = "swmbench0";
const ADDRESS = "198.19.250.1";

/**
 * Two twin Deployments on kwok nodes, one sized by an HPA reading queueLength from the
 * controller's metrics API, one by a ScalingPolicy on the same signal and per-pod target. Every
 * ready pod reports its share of the same total; each run steps the total from 0 to STEP and
 * times both Deployments' first scale write, then steps back and waits for both at 1. The
 * metrics API listens on an address of a bridge it creates (the aggregator dials endpoints,
 * which may not be loopback), so this needs root.
 */
export async function benchMetricsApi(ctx: BenchContext): Promise<MetricsApiResult> {
  const runs = ctx.quick ? 3 : 10;
  ctx.progress("metrics-api: starting a local control plane");
  const cluster = await startControlPlane({ binDir: await ensureBinaries(), nodes: 1 });
  ctx.cleanup.add(cluster.stop);
  let linkMade = false;
  const stops: (() => Promise<void>)[] = [];
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    await ip(["link", "add", LINK, "type", "bridge"]);
    linkMade = true;
    await ip(["addr", "add", `${ADDRESS}/32`, "dev", LINK]);
    await ip(["link", "set", LINK, "up"]);
    const port = await ctx.freePort();
    await setUp(kc, port);

    const apiPort = await ctx.freePort();
    // From the sources: this phase times decisions and API round trips, not CPU.
    const controller = startProgram("controller", "sidecar/controller/main.ts", {
      KUBECONFIG: cluster.kubeconfigPath,
      SWELL_BACKEND: "kubernetes",
      HOST: "127.0.0.1",
      PORT: String(apiPort),
      POD_NAME: "bench-controller",
      POD_NAMESPACE: NS,
      SWELL_WATCH_NAMESPACE: NS,
      SWELL_METRICS_API_PORT: String(port),
      SWELL_METRICS_API_HOST: ADDRESS,
      LOG_LEVEL: "warn",
    });
    stops.push(controller.stop);
    ctx.cleanup.add(controller.stop);
    const url = `http://127.0.0.1:${apiPort}`;
    await waitHealthy(controller, `${url}/readyz`, 60_000);
    await until("the APIService Available", 90_000, async () => {
      const raw = await kc
        .makeApiClient(CustomObjectsApi)
        .getClusterCustomObject({
          group: "apiregistration.k8s.io",
          version: "v1",
          plural: "apiservices",
          name: "v1beta2.custom.metrics.k8s.io",
        })
        .catch(() => undefined);
      const conditions = (raw as { status?: { conditions?: { type: string; status: string }[] } })
        ?.status?.conditions;
      return conditions?.some((c) => c.type === "Available" && c.status === "True") ?? false;
    });

    let total = 0;
    const reporters = ["hpa-target", "swell-target"].map((app) =>
      reportShares(kc, app, url, () => total),
    );
    for (const r of reporters) stops.push(r.stop);
    const apps = kc.makeApiClient(AppsV1Api);
    const replicas = async (name: string) =>
      (await apps.readNamespacedDeployment({ name, namespace: NS })).spec?.replicas ?? 0;
    const hpaRunsMs: number[] = [];
    const swellRunsMs: number[] = [];
    for (let r = 0; r < runs; r++) {
      total = 0;
      await until("both back at 1 replica", 120_000, async () => {
        const [a, b] = await Promise.all([replicas("hpa-target"), replicas("swell-target")]);
        return a === 1 && b === 1;
      });
      // Start each step at another point of the HPA's sync period.
      await sleep(2000 + Math.random() * HPA_SYNC_SECONDS * 1000);
      const t0 = Date.now();
      total = STEP;
      const seen = new Map<string, number>();
      await until("both scaled up", 60_000, async () => {
        for (const name of ["hpa-target", "swell-target"]) {
          if (!seen.has(name) && (await replicas(name)) > 1) seen.set(name, Date.now() - t0);
        }
        return seen.size === 2;
      });
      hpaRunsMs.push(seen.get("hpa-target") ?? Number.NaN);
      swellRunsMs.push(seen.get("swell-target") ?? Number.NaN);
      ctx.progress(
        `metrics-api: run ${r + 1}/${runs}: HPA on swell's metrics ${seen.get("hpa-target")} ms, swell's controller ${seen.get("swell-target")} ms`,
      );
    }
    return {
      reactionP50Ms: percentile(hpaRunsMs, 50),
      reactionP95Ms: percentile(hpaRunsMs, 95),
      hpaRunsMs,
      swellP50Ms: percentile(swellRunsMs, 50),
      swellP95Ms: percentile(swellRunsMs, 95),
      swellRunsMs,
      hpaSyncSeconds: HPA_SYNC_SECONDS,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    if (linkMade) await ip(["link", "del", LINK]).catch(() => {});
    await cluster.stop();
    ctx.cleanup.delete(cluster.stop);
  }
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error(`metrics-api: timed out waiting for ${what}`);
}

/** The namespace, CRD, APIServices, the Service to the bridge address, both workloads, the HPA and the policy. */
async function setUp(kc: KubeConfig, port: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const yaml = async (path: string) =>
    loadAllYaml(await readFile(path, "utf8")) as KubernetesObject[];
  const [crd] = await yaml("k8s/base/crds/scalingpolicies.yaml");
  if (crd) await objects.create(crd);
  for (const doc of await yaml(join("k8s/components/metrics-api/apiservices.yaml"))) {
    await objects.create(
      JSON.parse(JSON.stringify(doc).replaceAll('"namespace":"swell"', `"namespace":"${NS}"`)),
    );
  }
  await core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name: "swell-controller-metrics" },
      spec: { ports: [{ name: "https", port: 443, targetPort: port }] },
    },
  });
  await core.createNamespacedEndpoints({
    namespace: NS,
    body: {
      metadata: { name: "swell-controller-metrics" },
      subsets: [{ addresses: [{ ip: ADDRESS }], ports: [{ name: "https", port }] }],
    },
  });
  await core.createNamespacedServiceAccount({
    namespace: NS,
    body: { metadata: { name: "agent" } },
  });
  for (const name of ["hpa-target", "swell-target"]) {
    const labels = { app: name };
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: "agent",
              containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }],
            },
          },
        },
      },
    });
  }
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  await until("the ScalingPolicy CRD", 60_000, async () => {
    const c = await ext.readCustomResourceDefinition({ name: crd?.metadata?.name ?? "" });
    return (
      c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True") ?? false
    );
  });
  // The same per-pod target and bounds; both scale down at once so the next run starts soon.
  const bounds = { minReplicas: 1, maxReplicas: 8 };
  await kc.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
    namespace: NS,
    body: {
      metadata: { name: "hpa-target" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "hpa-target" },
        ...bounds,
        metrics: [
          {
            type: "Pods",
            pods: {
              metric: { name: "queueLength" },
              target: { type: "AverageValue", averageValue: String(PER_POD_TARGET) },
            },
          },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
      },
    },
  });
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: "scaling.swell.dev",
    version: "v1alpha1",
    namespace: NS,
    plural: "scalingpolicies",
    body: {
      apiVersion: "scaling.swell.dev/v1alpha1",
      kind: "ScalingPolicy",
      metadata: { name: "swell-target" },
      spec: {
        targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "swell-target" },
        ...bounds,
        metrics: [{ name: "queueLength", averageValue: PER_POD_TARGET }],
        // Panic as the base's policies have it (a surge of twice the capacity acts at once), its
        // stable window short so that each run can scale back down soon.
        panic: { windowSeconds: 6, threshold: 2, stableWindowSeconds: 5 },
        behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
      },
    },
  });
}

/**
 * Every Ready pod of the app reports, as its agent would (a pod-bound token of audience swell),
 * its share of the total queue, every 200 ms, until stopped.
 */
function reportShares(kc: KubeConfig, app: string, url: string, total: () => number) {
  const core = kc.makeApiClient(CoreV1Api);
  const pods = new Map<string, { pod: V1Pod; token: string; seq: number }>();
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      try {
        const list = await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` });
        const ready = list.items.filter(
          (p) =>
            !p.metadata?.deletionTimestamp &&
            p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        );
        for (const pod of ready) {
          const uid = pod.metadata?.uid ?? "";
          if (pods.has(uid)) continue;
          const token = await core.createNamespacedServiceAccountToken({
            name: "agent",
            namespace: NS,
            body: {
              spec: {
                audiences: ["swell"],
                expirationSeconds: 3600,
                boundObjectRef: { kind: "Pod", apiVersion: "v1", name: pod.metadata?.name, uid },
              },
            },
          });
          pods.set(uid, { pod, token: token.status?.token ?? "", seq: 0 });
        }
        const share = total() / Math.max(1, ready.length);
        const now = Date.now();
        await Promise.all(
          ready.map(async (p) => {
            const a = pods.get(p.metadata?.uid ?? "");
            if (!a) return;
            const res = await fetch(`${url}/v1/reports`, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${a.token}` },
              body: JSON.stringify({
                workload: { namespace: NS, kind: "Deployment", name: app },
                pod: { name: p.metadata?.name, uid: p.metadata?.uid },
                seq: a.seq++,
                window: { start: now - 1000, end: now },
                app: "ready",
                signals: { queueLength: share },
              }),
            });
            await res.arrayBuffer();
          }),
        );
      } catch {
        // A failed list or report: the next round tries again.
      }
      await sleep(200);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
    },
  };
}
