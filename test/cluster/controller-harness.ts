// Helpers for the controller's cluster tests: the CRD and RBAC as k8s/ ships them, a workload
// with pods on kwok nodes, controller processes acting as the least-privilege ServiceAccount, and
// reports sent with pod-bound tokens like the agents' projected ones.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type EventsV1Event,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  loadAllYaml,
  type V1CustomResourceDefinition,
  type V1Pod,
} from "@kubernetes/client-node";
import { freePort } from "../../tools/local/ports.ts";
import {
  apiStatus,
  requestServiceAccountToken,
  waitFor,
  writeServiceAccountKubeconfig,
} from "./kube.ts";

const ROOT = join(import.meta.dirname, "..", "..");
export const GROUP = "scaling.swell.dev";
export const VERSION = "v1alpha1";
export const PLURAL = "scalingpolicies";

// client-node's loadAllYaml turns each document into its typed model: a CRD's `default` and
// `enum` become `_default` and `_enum`, which the client serializes back. Plain parsed YAML
// would lose them silently (the client drops keys its models do not know).
async function yamlDocs(path: string): Promise<KubernetesObject[]> {
  return loadAllYaml(await readFile(join(ROOT, path), "utf8")) as KubernetesObject[];
}

/** Installs the CRD of k8s/base/crds (or keeps the one there) and waits until it is served. */
export async function installCrd(kc: KubeConfig): Promise<void> {
  const crd = (
    await yamlDocs("k8s/base/crds/scalingpolicies.yaml")
  )[0] as V1CustomResourceDefinition;
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const name = crd?.metadata?.name ?? "";
  try {
    await ext.createCustomResourceDefinition({ body: crd });
  } catch (err) {
    if (apiStatus(err) !== 409) throw err;
    const current = await ext.readCustomResourceDefinition({ name });
    await ext.replaceCustomResourceDefinition({
      name,
      body: {
        ...crd,
        metadata: { ...crd?.metadata, resourceVersion: current.metadata?.resourceVersion },
      },
    });
  }
  await waitFor("the ScalingPolicy CRD Established", async () => {
    const c = await ext.readCustomResourceDefinition({ name });
    return c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True");
  });
  const custom = kc.makeApiClient(CustomObjectsApi);
  await waitFor("ScalingPolicies served", async () => {
    await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL });
    return true;
  });
}

/**
 * Applies k8s/base/controller/rbac.yaml with its namespace moved to `namespace` (and the
 * cluster-wide binding renamed per namespace), then writes a kubeconfig acting as that
 * ServiceAccount: the controller under test has exactly the rights the manifests grant.
 */
export async function applyControllerRbac(
  kc: KubeConfig,
  namespace: string,
  dir: string,
  files = ["k8s/base/controller/rbac.yaml"],
): Promise<string> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const docs = (await Promise.all(files.map(yamlDocs))).flat();
  for (const doc of docs) {
    const o = JSON.parse(
      JSON.stringify(doc).replaceAll('"namespace":"swell"', `"namespace":"${namespace}"`),
    );
    // Bindings outside the test's namespace are one per test namespace.
    if (
      o.kind === "ClusterRoleBinding" ||
      (o.kind === "RoleBinding" && o.metadata.namespace !== namespace)
    ) {
      o.metadata.name = `${o.metadata.name}-${namespace}`;
    }
    try {
      await objects.create(o);
    } catch (err) {
      if (apiStatus(err) !== 409) throw err;
      await objects.replace(o); // the ClusterRole, shared by the test files
    }
  }
  const path = join(dir, "controller.kubeconfig");
  await writeServiceAccountKubeconfig(kc, path, { namespace, serviceAccount: "swell-controller" });
  return path;
}

export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "swell-ctl-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A Deployment whose pods run as ServiceAccount `agent` (pods on kwok nodes become Ready). */
export async function createWorkload(
  kc: KubeConfig,
  namespace: string,
  name: string,
  replicas: number,
) {
  const core = kc.makeApiClient(CoreV1Api);
  await core
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name: "agent" } } })
    .catch((err) => {
      if (apiStatus(err) !== 409) throw err;
    });
  const labels = { app: name };
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, labels },
      spec: {
        replicas,
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

const isReady = (pod: V1Pod) =>
  !pod.metadata?.deletionTimestamp &&
  pod.status?.phase === "Running" &&
  (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

/** Waits until the app has exactly n pods, all Ready; returns them. */
export async function readyPods(
  kc: KubeConfig,
  namespace: string,
  app: string,
  n: number,
  timeoutMs = 60_000,
) {
  const core = kc.makeApiClient(CoreV1Api);
  return waitFor(
    `${n} Ready pods of ${app}`,
    async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
      const live = list.items.filter((p) => !p.metadata?.deletionTimestamp);
      return live.length === n && live.every(isReady) ? live : undefined;
    },
    timeoutMs,
  );
}

export async function deploymentReplicas(kc: KubeConfig, namespace: string, name: string) {
  const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
  return {
    spec: d.spec?.replicas,
    ready: d.status?.readyReplicas ?? 0,
    generation: d.metadata?.generation,
  };
}

export interface PolicySpec {
  target: string;
  minReplicas: number;
  maxReplicas: number;
  /** requestRate per pod the policy sizes for. */
  averageValue?: number;
  extra?: Record<string, unknown>;
}

export function policyBody(name: string, p: PolicySpec) {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "ScalingPolicy",
    metadata: { name },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: p.target },
      minReplicas: p.minReplicas,
      maxReplicas: p.maxReplicas,
      metrics: [{ name: "requestRate", averageValue: p.averageValue ?? 10 }],
      // Scale up at once, and keep scale-down out of the way of the assertions.
      behavior: { scaleDown: { stabilizationWindowSeconds: 600 } },
      ...p.extra,
    },
  };
}

export async function createPolicy(kc: KubeConfig, namespace: string, name: string, p: PolicySpec) {
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: PLURAL,
    body: policyBody(name, p),
  });
}

export interface PolicyStatusView {
  currentReplicas?: number;
  readyReplicas?: number;
  desiredReplicas?: number;
  lastScaleTime?: string;
  leader?: string;
  conditions?: {
    type: string;
    status: string;
    reason: string;
    message: string;
    lastTransitionTime?: string;
  }[];
}

export async function policyStatus(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<PolicyStatusView> {
  const o = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: PLURAL,
    name,
  })) as { status?: PolicyStatusView };
  return o.status ?? {};
}

export function condition(s: PolicyStatusView, type: string) {
  return s.conditions?.find((c) => c.type === type);
}

/** events.k8s.io Events about one object (by name), oldest first. */
export async function eventsAbout(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<EventsV1Event[]> {
  const list = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({
    namespace,
    fieldSelector: `regarding.name=${name}`,
  });
  return list.items.sort(
    (a, b) => new Date(a.eventTime).getTime() - new Date(b.eventTime).getTime(),
  );
}

/** A pod that reports like an agent: its pod-bound token for audience swell, its own seq. */
export class FakeAgent {
  readonly pod: { name: string; uid: string };
  readonly workload: { namespace: string; kind: string; name: string };
  token = "";
  #seq = 0;

  constructor(pod: V1Pod, workload: string) {
    this.pod = { name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" };
    this.workload = {
      namespace: pod.metadata?.namespace ?? "",
      kind: "Deployment",
      name: workload,
    };
  }

  async init(kc: KubeConfig): Promise<this> {
    this.token = await requestServiceAccountToken(kc, {
      namespace: this.workload.namespace,
      serviceAccount: "agent",
      audience: "swell",
      pod: this.pod,
      expirationSeconds: 3600,
    });
    return this;
  }

  /** Sends one report with this request rate; returns the HTTP status. */
  async report(
    url: string,
    requestRate: number,
    over: {
      workload?: string;
      pod?: { name: string; uid: string };
      token?: string;
      /** Signals to send instead of `{ requestRate }`. */
      signals?: Record<string, number>;
    } = {},
  ): Promise<number> {
    const now = Date.now();
    const res = await fetch(`${url}/v1/reports`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(over.token === "" ? {} : { authorization: `Bearer ${over.token ?? this.token}` }),
      },
      body: JSON.stringify({
        workload: { ...this.workload, name: over.workload ?? this.workload.name },
        pod: over.pod ?? this.pod,
        seq: this.#seq++,
        window: { start: now - 1000, end: now },
        app: "ready",
        signals: over.signals ?? { requestRate },
      }),
    });
    await res.arrayBuffer();
    return res.status;
  }
}

/** Reports every 300 ms from each agent (answers ignored: a failover makes some 503) until stopped. */
export function reportLoop(
  agents: FakeAgent[],
  url: () => string,
  rate: () => number,
): () => Promise<void> {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      await Promise.all(agents.map((a) => a.report(url(), rate()).catch(() => 0)));
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  return async () => {
    stopped = true;
    await done;
  };
}

/**
 * Every Ready pod of the app reports, as each pod's agent would, a share of the total demand
 * (total / pods), every 300 ms until stopped; new pods join as they become Ready. (The policy
 * reads a silent pod as carrying the load of those that report, so one agent for many pods
 * would multiply the demand.)
 */
export function reportAsPods(
  kc: KubeConfig,
  namespace: string,
  app: string,
  url: () => string,
  total: () => number,
  signal = "requestRate",
): { stop: () => Promise<void>; statuses: Map<number, number> } {
  const core = kc.makeApiClient(CoreV1Api);
  const agents = new Map<string, FakeAgent>();
  // How the controller answered, by HTTP status (0: no answer).
  const statuses = new Map<number, number>();
  const send = (a: FakeAgent, share: number) =>
    a
      .report(url(), share, { signals: { [signal]: share } })
      .catch(() => 0)
      .then((status) => statuses.set(status, (statuses.get(status) ?? 0) + 1));
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      try {
        const list = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
        const ready = list.items.filter(isReady);
        const known: FakeAgent[] = [];
        const joining: FakeAgent[] = [];
        for (const pod of ready) {
          const uid = pod.metadata?.uid ?? "";
          const agent = agents.get(uid);
          if (agent) known.push(agent);
          else {
            const fresh = await new FakeAgent(pod, app).init(kc);
            agents.set(uid, fresh);
            joining.push(fresh);
          }
        }
        // The pods that reported before send their smaller share first: the other order would
        // show the controller, for a moment, the old pods' full rates plus the new pods' shares.
        const share = total() / Math.max(1, known.length + joining.length);
        await Promise.all(known.map((a) => send(a, share)));
        await Promise.all(joining.map((a) => send(a, share)));
      } catch {
        // A failed list or token request: try again next round.
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  return {
    statuses,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

export interface ControllerProcess {
  name: string;
  url: string;
  child: ChildProcess;
  logs: string[];
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Lease timings short enough for tests: 3 s lease, 2 s renew deadline, 0.5 s retry. */
export const TEST_LEASE = { durationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

/** Starts `node sidecar/controller/main.ts` with the kubernetes backend; resolves once ready. */
export async function startController(opts: {
  name: string;
  namespace: string;
  kubeconfig: string;
  env?: Record<string, string>;
}): Promise<ControllerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, "sidecar/controller/main.ts")], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: opts.kubeconfig,
      SWELL_BACKEND: "kubernetes",
      HOST: "127.0.0.1",
      PORT: String(port),
      POD_NAME: opts.name,
      POD_NAMESPACE: opts.namespace,
      POD_IP: "127.0.0.1",
      SWELL_WATCH_NAMESPACE: opts.namespace,
      SWELL_LEASE_DURATION: `${TEST_LEASE.durationMs}ms`,
      SWELL_RENEW_DEADLINE: `${TEST_LEASE.renewDeadlineMs}ms`,
      SWELL_RETRY_PERIOD: `${TEST_LEASE.retryPeriodMs}ms`,
      SWELL_TICK: "500ms",
      SHUTDOWN_DELAY: "0s",
      LOG_LEVEL: "info",
      ...opts.env,
    },
  });
  const logs: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => logs.push(...chunk.split("\n").filter(Boolean)));
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      // SWELL_CONTROLLER_LOG_DIR keeps each controller's log for a look after the run.
      const dir = process.env.SWELL_CONTROLLER_LOG_DIR;
      if (dir) {
        mkdir(dir, { recursive: true })
          .then(() =>
            writeFile(join(dir, `${opts.namespace}-${opts.name}.log`), `${logs.join("\n")}\n`),
          )
          .catch(() => {});
      }
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  await waitFor(
    `controller ${opts.name} ready`,
    async () => {
      if (gone) throw new Error(`exited: ${logs.slice(-5).join(" | ")}`);
      const res = await fetch(`${url}/readyz`);
      return res.status === 200;
    },
    30_000,
  );
  return {
    name: opts.name,
    url,
    child,
    logs,
    exited,
    async stop(signal = "SIGTERM") {
      if (!gone) child.kill(signal);
      return exited;
    },
  };
}

/** The controller's view of one workload (GET /v1/workloads/{ns}/{name}). */
export async function workloadView(url: string, namespace: string, name: string) {
  const res = await fetch(`${url}/v1/workloads/${namespace}/${name}`);
  if (res.status !== 200) throw new Error(`GET workload: ${res.status}`);
  return (await res.json()) as {
    leader: string | null;
    identity: string;
    currentReplicas: number | null;
    pods: { known: number; reporting: number };
    decisions: { applied: boolean; desiredReplicas: number; leader?: string }[];
  };
}
