// What a pod really costs on the real node (tools/node), from the kubelet's own accounting: the
// Summary API (`/stats/summary`, through the apiserver's node proxy) per container, the image's
// size in the registry or the Docker engine, and a pod's start from created to Ready. The
// numbers are summarised by the pure functions here; the I/O sits in the sampler and helpers.
import { request } from "node:https";
import type { CoreV1Api, KubeConfig, V1Pod } from "@kubernetes/client-node";
import { docker } from "../node/docker.ts";
import { percentile } from "./stats.ts";

/** The parts of the kubelet's Summary API (stats/v1alpha1) that the sampler reads. */
export interface KubeletSummary {
  pods?: {
    podRef: { name: string; namespace: string; uid: string };
    containers?: {
      name: string;
      cpu?: { time?: string; usageNanoCores?: number };
      memory?: { time?: string; workingSetBytes?: number; rssBytes?: number };
    }[];
  }[];
}

/** One container's reading at one kubelet stats time. */
export interface ContainerReading {
  /** `<workload>/<container>`, e.g. `api/swell-agent`. */
  key: string;
  podUid: string;
  container: string;
  /** The kubelet's stats time (it refreshes a container's stats every ~10 s, not per request). */
  time: string;
  workingSetBytes?: number;
  rssBytes?: number;
  usageNanoCores?: number;
}

export interface Spread {
  p50: number;
  max: number;
}

export interface ContainerStats {
  /** Distinct kubelet readings (pod × stats time), each counted once however often sampled. */
  readings: number;
  pods: number;
  workingSetBytes: Spread;
  rssBytes: Spread;
  /** Absent when the kubelet gave no CPU rate yet (it needs two readings of a container). */
  cpuNanoCores?: Spread;
}

export interface StatsSummary {
  startMs: number;
  endMs: number;
  /** Requests to the Summary API over the window. */
  samples: number;
  /** Per `<workload>/<container>`, e.g. `api/swell-agent`, `api/api`, `worker/worker`. */
  containers: Record<string, ContainerStats>;
}

/**
 * The readings of one Summary API answer for a namespace's pods. `workloadOf` names a pod's
 * workload by uid (undefined: a pod to leave out, e.g. one not of a known workload).
 */
export function readingsOf(
  summary: KubeletSummary,
  namespace: string,
  workloadOf: (podUid: string) => string | undefined,
): ContainerReading[] {
  const out: ContainerReading[] = [];
  for (const pod of summary.pods ?? []) {
    if (pod.podRef.namespace !== namespace) continue;
    const workload = workloadOf(pod.podRef.uid);
    if (!workload) continue;
    for (const c of pod.containers ?? []) {
      const time = c.memory?.time ?? c.cpu?.time;
      if (!time) continue;
      out.push({
        key: `${workload}/${c.name}`,
        podUid: pod.podRef.uid,
        container: c.name,
        time,
        workingSetBytes: c.memory?.workingSetBytes,
        rssBytes: c.memory?.rssBytes,
        usageNanoCores: c.cpu?.usageNanoCores,
      });
    }
  }
  return out;
}

/**
 * p50 and max per container key over the readings, each (pod, container, stats time) counted
 * once: sampling faster than the kubelet refreshes must not weigh one reading many times.
 */
export function summarise(readings: readonly ContainerReading[]): Record<string, ContainerStats> {
  const distinct = new Map<string, ContainerReading>();
  for (const r of readings) distinct.set(`${r.key}\0${r.podUid}\0${r.time}`, r);
  const byKey = new Map<string, ContainerReading[]>();
  for (const r of distinct.values()) {
    const list = byKey.get(r.key) ?? [];
    list.push(r);
    byKey.set(r.key, list);
  }
  const spread = (values: number[]): Spread => ({
    p50: percentile(values, 50),
    max: Math.max(...values),
  });
  const numbers = (list: ContainerReading[], pick: (r: ContainerReading) => number | undefined) =>
    list.map(pick).filter((v): v is number => typeof v === "number");
  const out: Record<string, ContainerStats> = {};
  for (const [key, list] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
    const cpu = numbers(list, (r) => r.usageNanoCores);
    out[key] = {
      readings: list.length,
      pods: new Set(list.map((r) => r.podUid)).size,
      workingSetBytes: spread(numbers(list, (r) => r.workingSetBytes)),
      rssBytes: spread(numbers(list, (r) => r.rssBytes)),
      ...(cpu.length > 0 ? { cpuNanoCores: spread(cpu) } : {}),
    };
  }
  return out;
}

/** GET of an apiserver path as the kubeconfig's user; the parsed JSON. */
export async function apiGetJson(kc: KubeConfig, path: string): Promise<unknown> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the kubeconfig names no cluster server");
  const url = new URL(path, server);
  const opts: import("node:https").RequestOptions = {
    method: "GET",
    hostname: url.hostname,
    port: url.port,
    path: `${url.pathname}${url.search}`,
    headers: { accept: "application/json" },
    timeout: 10_000,
  };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${path}: ${res.statusCode} ${body.slice(0, 300)}`));
          return;
        }
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(new Error(`GET ${path}: not JSON (${(err as Error).message})`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)));
    req.on("error", reject);
    req.end();
  });
}

/** The kubelet's Summary API of a node, through the apiserver's node proxy. */
export async function kubeletSummary(kc: KubeConfig, nodeName: string): Promise<KubeletSummary> {
  return (await apiGetJson(
    kc,
    `/api/v1/nodes/${encodeURIComponent(nodeName)}/proxy/stats/summary`,
  )) as KubeletSummary;
}

export interface StatsSamplerOptions {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  nodeName: string;
  namespace: string;
  /** How often to ask the kubelet; its own refresh is about every 10 s. */
  intervalMs?: number;
  /** The label naming a pod's workload (default `app.kubernetes.io/name`). */
  workloadLabel?: string;
}

export interface StatsSampler {
  /** Ends the sampling; the summary of what was read. Rejects if no sample succeeded. */
  stop(): Promise<StatsSummary>;
}

/**
 * Samples the kubelet's Summary API for the namespace's pods every `intervalMs` until stopped.
 * Pods are named by their workload label, looked up again whenever an unknown pod appears.
 */
export function startStatsSampler(o: StatsSamplerOptions): StatsSampler {
  const label = o.workloadLabel ?? "app.kubernetes.io/name";
  const startMs = Date.now();
  const readings: ContainerReading[] = [];
  const workloads = new Map<string, string>();
  let samples = 0;
  let lastError: unknown;
  let stopped = false;

  const refreshWorkloads = async () => {
    const list = await o.core.listNamespacedPod({ namespace: o.namespace });
    for (const p of list.items) {
      const uid = p.metadata?.uid;
      const name = p.metadata?.labels?.[label];
      if (uid && name) workloads.set(uid, name);
    }
  };
  const sampleOnce = async () => {
    const summary = await kubeletSummary(o.kubeConfig, o.nodeName);
    const unknown = (summary.pods ?? []).some(
      (p) => p.podRef.namespace === o.namespace && !workloads.has(p.podRef.uid),
    );
    if (unknown) await refreshWorkloads();
    readings.push(...readingsOf(summary, o.namespace, (uid) => workloads.get(uid)));
    samples++;
  };
  const loop = (async () => {
    while (!stopped) {
      const next = Date.now() + (o.intervalMs ?? 1_000);
      await sampleOnce().catch((err: unknown) => {
        lastError = err;
      });
      const wait = next - Date.now();
      if (wait > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
      if (samples === 0) {
        throw new Error(`no kubelet stats sample succeeded: ${String(lastError)}`);
      }
      return { startMs, endMs: Date.now(), samples, containers: summarise(readings) };
    },
  };
}

/** A pod's start: seconds from created to scheduled and to Ready (whole seconds: API times). */
export function podStartSeconds(pod: V1Pod): { scheduled?: number; ready?: number } {
  const created = pod.metadata?.creationTimestamp;
  if (!created) return {};
  const at = (type: string) => {
    const c = pod.status?.conditions?.find((x) => x.type === type && x.status === "True");
    return c?.lastTransitionTime
      ? (new Date(c.lastTransitionTime).getTime() - new Date(created).getTime()) / 1000
      : undefined;
  };
  return { scheduled: at("PodScheduled"), ready: at("Ready") };
}

/** A container's memory limit in bytes from a pod spec (native sidecars included). */
export function memoryLimitBytes(pod: V1Pod, container: string): number | undefined {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const limit = all.find((c) => c.name === container)?.resources?.limits?.memory;
  return limit === undefined ? undefined : parseQuantity(String(limit));
}

const SUFFIX: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** A Kubernetes quantity of bytes ("128Mi", "1G", "512"), as a number. */
export function parseQuantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(|k|M|G|T|Ki|Mi|Gi|Ti)$/.exec(q.trim());
  if (!m) throw new Error(`not a byte quantity: ${JSON.stringify(q)}`);
  return Number(m[1]) * (SUFFIX[m[2] ?? ""] ?? 1);
}

/**
 * An image's size as a registry serves it: its config and layers, compressed, from the
 * manifest (`reference` a tag or digest). What a node pulls the first time.
 */
export async function registryImageBytes(
  registry: string,
  repository: string,
  reference: string,
): Promise<number> {
  const res = await fetch(`http://${registry}/v2/${repository}/manifests/${reference}`, {
    headers: {
      accept: [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
      ].join(", "),
    },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`registry ${registry}: ${repository}:${reference}: ${res.status}`);
  const manifest = (await res.json()) as {
    config?: { size?: number };
    layers?: { size?: number }[];
  };
  if (!manifest.layers) throw new Error(`registry ${registry}: ${repository}: no layers (a list?)`);
  return (manifest.config?.size ?? 0) + manifest.layers.reduce((s, l) => s + (l.size ?? 0), 0);
}

/** An image's size in a Docker engine: unpacked, as `docker image inspect` counts it. */
export async function dockerImageBytes(dockerSocket: string, image: string): Promise<number> {
  const [inspect] = JSON.parse(await docker(dockerSocket, ["image", "inspect", image])) as {
    Size: number;
  }[];
  if (!inspect) throw new Error(`docker: no image ${image}`);
  return inspect.Size;
}
