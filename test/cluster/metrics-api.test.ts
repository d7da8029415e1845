// The controller as an aggregated API server (custom.metrics.k8s.io, external.metrics.k8s.io),
// on the real path: kube-apiserver's aggregation layer reaches it through its Service (an
// address on a bridge this test creates: Endpoints may not be loopback), with the
// APIServices of k8s/components/metrics-api, the caBundle the controller sets, the front proxy's
// client certificate, SubjectAccessReviews, and the real HPA controller reading the values.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import {
  ApiregistrationV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  loadAllYaml,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ip } from "../../tools/cluster/net.ts";
import { freePort } from "../../tools/local/ports.ts";
import {
  applyControllerRbac,
  type ControllerProcess,
  createWorkload,
  deploymentReplicas,
  FakeAgent,
  installCrd,
  readyPods,
  reportAsPods,
  startController,
  tempDir,
} from "./controller-harness.ts";
import { run, toolsBin } from "./k8s-render.ts";
import {
  adminKubeConfig,
  apiStatus,
  createTestNamespace,
  kubeconfigPath,
  waitFor,
} from "./kube.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const COMPONENT = "k8s/components/metrics-api";
const SERVICE = "swell-controller-metrics";
const CUSTOM = "/apis/custom.metrics.k8s.io";
const EXTERNAL = "/apis/external.metrics.k8s.io/v1beta1";

let kc: KubeConfig;
let ns: string;
let kubectl: string;
let port: number;
const cleanup: (() => Promise<unknown>)[] = [];
const controllers: ControllerProcess[] = [];
// Two addresses of 198.19.0.0/16 on a bridge of this test's own (no ports: only its local
// addresses matter; this kernel has no dummy interfaces), one per replica.
const third = 1 + ((randomBytes(1)[0] ?? 0) % 250);
const ips = [`198.19.${third}.1`, `198.19.${third}.2`];
const link = `swm${randomBytes(3).toString("hex")}`;
const apiServiceNames: string[] = [];

/** `kubectl get --raw PATH` as the admin; the parsed JSON, or the failure's stderr. */
async function raw(path: string): Promise<{ code: number; json?: unknown; stderr: string }> {
  const r = await run(kubectl, ["--kubeconfig", kubeconfigPath(), "get", "--raw", path]);
  return {
    code: r.code,
    stderr: r.stderr,
    ...(r.code === 0 ? { json: JSON.parse(r.stdout) } : {}),
  };
}

interface Item {
  describedObject?: { kind: string; name: string };
  metricName?: string;
  metric?: { name: string };
  metricLabels?: Record<string, string>;
  value: string;
}
const items = (json: unknown) => (json as { items: Item[] }).items;

/** The Service's only endpoints: what the endpoints controller would keep for live pods. */
async function setEndpoints(addresses: string[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const body = {
    metadata: { name: SERVICE, namespace: ns },
    subsets: [{ addresses: addresses.map((a) => ({ ip: a })), ports: [{ name: "https", port }] }],
  };
  try {
    const current = await core.readNamespacedEndpoints({ name: SERVICE, namespace: ns });
    await core.replaceNamespacedEndpoints({
      name: SERVICE,
      namespace: ns,
      body: {
        ...body,
        metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion },
      },
    });
  } catch (err) {
    if (apiStatus(err) !== 404) throw err;
    await core.createNamespacedEndpoints({ namespace: ns, body });
  }
}

async function startReplica(name: string, address: string): Promise<ControllerProcess> {
  const p = await startController({
    name,
    namespace: ns,
    kubeconfig: controllerKubeconfig,
    env: {
      SWELL_METRICS_API_PORT: String(port),
      SWELL_METRICS_API_HOST: address,
      SWELL_POD_TTL: "3s",
    },
  });
  controllers.push(p);
  return p;
}

let controllerKubeconfig: string;
let pod: FakeAgent;
const metricsAddress = new Map<string, string>();

beforeAll(async () => {
  kc = adminKubeConfig();
  await installCrd(kc);
  kubectl = join(await toolsBin(), "kubectl");
  const created = await createTestNamespace(kc, "metrics-api");
  ns = created.name;
  cleanup.push(created.remove);
  const tmp = await tempDir();
  cleanup.push(tmp.remove);
  controllerKubeconfig = await applyControllerRbac(kc, ns, tmp.dir, [
    "k8s/base/controller/rbac.yaml",
    `${COMPONENT}/rbac.yaml`,
  ]);

  await ip(["link", "add", link, "type", "bridge"]);
  cleanup.push(() => ip(["link", "del", link]));
  for (const a of ips) await ip(["addr", "add", `${a}/32`, "dev", link]);
  await ip(["link", "set", link, "up"]);
  port = await freePort(ips[0]);

  // The APIServices as k8s/ ships them, pointed at this test's namespace (no caBundle yet).
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const docs = loadAllYaml(
    await readFile(join(ROOT, COMPONENT, "apiservices.yaml"), "utf8"),
  ) as KubernetesObject[];
  for (const doc of docs) {
    const o = JSON.parse(
      JSON.stringify(doc).replaceAll('"namespace":"swell"', `"namespace":"${ns}"`),
    );
    await objects.delete(o).catch(() => {});
    await objects.create(o);
    apiServiceNames.push(o.metadata.name);
  }
  // Removed at the end: an APIService nobody serves makes discovery fail for every client.
  cleanup.push(async () => {
    for (const name of apiServiceNames) {
      await kc
        .makeApiClient(ApiregistrationV1Api)
        .deleteAPIService({ name })
        .catch(() => {});
    }
  });
  await kc.makeApiClient(CoreV1Api).createNamespacedService({
    namespace: ns,
    body: {
      metadata: { name: SERVICE },
      spec: { ports: [{ name: "https", port: 443, targetPort: port }] },
    },
  });
  await setEndpoints(ips);

  await createWorkload(kc, ns, "queue", 1);
  const [p] = await readyPods(kc, ns, "queue", 1);
  if (!p) throw new Error("no pod");
  pod = await new FakeAgent(p, "queue").init(kc);
  const [a, b] = await Promise.all([
    startReplica("ctl-a", ips[0] ?? ""),
    startReplica("ctl-b", ips[1] ?? ""),
  ]);
  metricsAddress.set(a.name, ips[0] ?? "");
  metricsAddress.set(b.name, ips[1] ?? "");
  await waitFor(
    "the APIServices Available",
    async () => {
      for (const name of apiServiceNames) {
        const s = await kc.makeApiClient(ApiregistrationV1Api).readAPIService({ name });
        const available = s.status?.conditions?.find((c) => c.type === "Available");
        if (available?.status !== "True") throw new Error(`${name}: ${available?.message}`);
      }
      return true;
    },
    60_000,
  );
}, 240_000);

afterAll(async () => {
  for (const p of controllers) await p.stop("SIGKILL");
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

const podsPath = (version: string, metric: string) =>
  `${CUSTOM}/${version}/namespaces/${ns}/pods/*/${metric}?labelSelector=${encodeURIComponent("app=queue")}`;

/** The pod reports these signals every 500 ms until the returned function is called. */
function keepReporting(signals: Record<string, number>): () => Promise<void> {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      await pod.report(controllers[0]?.url ?? "", 0, { signals }).catch(() => 0);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return async () => {
    stopped = true;
    await done;
  };
}
let reporting: (() => Promise<void>) | undefined;

describe("the metrics API, through kube-apiserver", () => {
  afterAll(async () => {
    await reporting?.();
  });

  it("registers with a caBundle the controller set, and lists swell's signals in discovery", async () => {
    for (const name of apiServiceNames) {
      const s = await kc.makeApiClient(ApiregistrationV1Api).readAPIService({ name });
      expect(s.spec?.insecureSkipTLSVerify ?? false).toBe(false);
      expect(Buffer.from(s.spec?.caBundle ?? "", "base64").toString()).toMatch(/BEGIN CERTIFICATE/);
    }
    for (const version of ["v1beta2", "v1beta1"]) {
      const r = await raw(`${CUSTOM}/${version}`);
      expect(r.code, r.stderr).toBe(0);
      const names = (r.json as { resources: { name: string }[] }).resources.map((x) => x.name);
      expect(names).toContain("pods/queueLength");
      expect(names).toContain("deployments.apps/requestRate");
    }
    const ext = await raw(EXTERNAL);
    expect((ext.json as { resources: { name: string }[] }).resources.map((x) => x.name)).toContain(
      "queueLength",
    );
  });

  it("serves the values the agents report, for pods, the Deployment and as external metrics", async () => {
    // The workload has no ScalingPolicy: its reports are kept for the metrics API alone.
    const sent = await pod.report(controllers[0]?.url ?? "", 0, { signals: { queueLength: 7.5 } });
    expect(sent).toBe(202);
    // Kept fresh (the pod TTL is 3 s here) while the queries below take their time.
    reporting = keepReporting({ queueLength: 7.5 });
    const v2 = await raw(podsPath("v1beta2", "queueLength"));
    expect(v2.code, v2.stderr).toBe(0);
    expect(items(v2.json)).toEqual([
      expect.objectContaining({
        describedObject: expect.objectContaining({ kind: "Pod", name: pod.pod.name }),
        metric: { name: "queueLength", selector: null },
        value: "7500m",
      }),
    ]);
    const v1 = await raw(podsPath("v1beta1", "queueLength"));
    expect(items(v1.json)[0]).toEqual(
      expect.objectContaining({ metricName: "queueLength", value: "7500m" }),
    );
    const one = await raw(`${CUSTOM}/v1beta2/namespaces/${ns}/pods/${pod.pod.name}/queueLength`);
    expect(items(one.json)[0]?.value).toBe("7500m");
    const object = await raw(
      `${CUSTOM}/v1beta2/namespaces/${ns}/deployments.apps/queue/queueLength`,
    );
    expect(items(object.json)).toEqual([
      expect.objectContaining({
        describedObject: expect.objectContaining({ kind: "Deployment", name: "queue" }),
        value: "7500m",
      }),
    ]);
    const external = await raw(
      `${EXTERNAL}/namespaces/${ns}/queueLength?labelSelector=${encodeURIComponent("workload=queue")}`,
    );
    expect(items(external.json)).toEqual([
      expect.objectContaining({
        metricLabels: { workload: "queue", kind: "Deployment" },
        value: "7500m",
      }),
    ]);
    // A selector that picks no pod: nothing, not zero.
    const none = await raw(
      `${CUSTOM}/v1beta2/namespaces/${ns}/pods/*/queueLength?labelSelector=${encodeURIComponent("app=other")}`,
    );
    expect(items(none.json)).toEqual([]);
  });

  it.each([
    {
      what: "an unknown metric",
      path: () => `${CUSTOM}/v1beta2/namespaces/${ns}/pods/*/cpuSeconds`,
    },
    {
      what: "an unknown object",
      path: () => `${CUSTOM}/v1beta2/namespaces/${ns}/deployments.apps/nope/queueLength`,
    },
    {
      what: "an unknown kind",
      path: () => `${CUSTOM}/v1beta2/namespaces/${ns}/jobs.batch/queue/queueLength`,
    },
    { what: "an unknown external metric", path: () => `${EXTERNAL}/namespaces/${ns}/cpuSeconds` },
  ])("answers $what with a Kubernetes Status 404", async ({ path }) => {
    const r = await raw(path());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/NotFound/);
  });

  it("refuses a request without the front proxy's identity, whatever its headers claim", async () => {
    const direct = (opts: { cert?: string; key?: string }) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `https://${ips[0]}:${port}${CUSTOM}/v1beta2/namespaces/${ns}/pods/*/queueLength`,
          {
            rejectUnauthorized: false, // the test checks the controller's answer, not its name
            headers: { "x-remote-user": "system:admin", "x-remote-group": "system:masters" },
            ...opts,
          },
          (res) => {
            let body = "";
            res.on("data", (c) => {
              body += c;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on("error", reject);
        req.end();
      });
    const anonymous = await direct({});
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toEqual(
      expect.objectContaining({ kind: "Status", code: 401 }),
    );
    // A client certificate the cluster trusts, but not the front proxy's: still nobody.
    const user = kc.getCurrentUser();
    const admin = await direct({
      cert: Buffer.from(user?.certData ?? "", "base64").toString(),
      key: Buffer.from(user?.keyData ?? "", "base64").toString(),
    });
    expect(admin.status).toBe(401);
  });

  it("leaves out a value older than the staleness bound (absent, never zero)", async () => {
    await reporting?.();
    await pod.report(controllers[0]?.url ?? "", 0, { signals: { queueLength: 3 } });
    expect(items((await raw(podsPath("v1beta2", "queueLength"))).json)[0]?.value).toBe("3");
    // SWELL_POD_TTL is 3 s here.
    await waitFor(
      "the stale value gone",
      async () => items((await raw(podsPath("v1beta2", "queueLength"))).json).length === 0,
      15_000,
    );
    const object = await raw(
      `${CUSTOM}/v1beta2/namespaces/${ns}/deployments.apps/queue/queueLength`,
    );
    expect(object.stderr).toMatch(/NotFound/);
  });
});

describe("a plain autoscaling/v2 HPA on swell's metrics", () => {
  const hpaName = "queue";
  let reports: ReturnType<typeof reportAsPods> | undefined;
  let total = 0;
  afterAll(async () => {
    await reports?.stop();
  });

  it("scales the Deployment up as reports rise and down after its window, ValidMetricFound", async () => {
    const autoscaling = kc.makeApiClient(AutoscalingV2Api);
    await autoscaling.createNamespacedHorizontalPodAutoscaler({
      namespace: ns,
      body: {
        metadata: { name: hpaName },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "queue" },
          minReplicas: 1,
          maxReplicas: 4,
          metrics: [
            {
              type: "Pods",
              pods: {
                metric: { name: "queueLength" },
                target: { type: "AverageValue", averageValue: "10" },
              },
            },
          ],
          behavior: { scaleDown: { stabilizationWindowSeconds: 10 } },
        },
      },
    });
    // 40 jobs waiting over the pods at 10 per pod: 4 replicas.
    total = 40;
    reports = reportAsPods(
      kc,
      ns,
      "queue",
      () => controllers[1]?.url ?? "",
      () => total,
      "queueLength",
    );
    // The HPA's own words when it does not get there.
    const hpaSays = async () => {
      const h = await autoscaling.readNamespacedHorizontalPodAutoscaler({
        name: hpaName,
        namespace: ns,
      });
      return JSON.stringify({
        metrics: h.status?.currentMetrics,
        conditions: h.status?.conditions?.map(
          (c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`,
        ),
      });
    };
    const replicasReach = (n: number) => async () => {
      if ((await deploymentReplicas(kc, ns, "queue")).spec === n) return true;
      throw new Error(await hpaSays());
    };
    await waitFor("the HPA scaling queue to 4", replicasReach(4), 90_000);
    const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({
      name: hpaName,
      namespace: ns,
    });
    const active = hpa.status?.conditions?.find((c) => c.type === "ScalingActive");
    expect(active).toEqual(expect.objectContaining({ status: "True", reason: "ValidMetricFound" }));
    expect(hpa.status?.currentMetrics?.[0]?.pods?.metric.name).toBe("queueLength");
    await readyPods(kc, ns, "queue", 4);
    total = 0;
    await waitFor("the HPA scaling queue back to 1", replicasReach(1), 90_000);
  });
});

describe("every controller replica answers", () => {
  let reports: ReturnType<typeof reportAsPods> | undefined;
  afterAll(async () => {
    await reports?.stop();
  });
  const podSum = async () => {
    const r = await raw(`${CUSTOM}/v1beta2/namespaces/${ns}/deployments.apps/queue/queueLength`);
    return r.code === 0 ? items(r.json)[0]?.value : undefined;
  };

  it("the leader and the follower serve the same values; killing the leader does not break the API", async () => {
    const leaderOf = async (c: ControllerProcess) =>
      ((await (await fetch(`${c.url}/v1/workloads`)).json()) as { leader: string | null }).leader;
    const first = controllers[0];
    if (!first) throw new Error("no controller");
    const leaderName = await waitFor("a leader", async () => (await leaderOf(first)) ?? undefined);
    const leader = controllers.find((c) => c.name === leaderName);
    const follower = controllers.find((c) => c.name !== leaderName);
    if (!leader || !follower)
      throw new Error(`no leader among ${controllers.map((c) => c.name)}: ${leaderName}`);
    // Reports reach the follower (forwarded to the leader): both must answer with the sum.
    reports = reportAsPods(
      kc,
      ns,
      "queue",
      () => follower.url,
      () => 6,
      "queueLength",
    );
    for (const only of [leader, follower]) {
      await setEndpoints([metricsAddress.get(only.name) ?? ""]);
      await waitFor(`${only.name} answering 6`, async () => (await podSum()) === "6", 20_000);
    }
    // The leader dies; the endpoints controller would drop its address, as the test does here.
    await leader.stop("SIGKILL");
    await setEndpoints([metricsAddress.get(follower.name) ?? ""]);
    await waitFor(
      `${follower.name} leading`,
      async () => (await leaderOf(follower)) === follower.name,
      20_000,
    );
    await waitFor(
      `${follower.name} answering 6 as the leader`,
      async () => (await podSum()) === "6",
      20_000,
    );
  });
});
