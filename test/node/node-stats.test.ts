// tools/bench/node-stats.ts against the real kubelet: `skaffold run` deploys the production
// image (target runtime), then the kubelet's Summary API is sampled for the pods of api and
// worker, idle and under a little traffic sent over a port-forward to loopback. What a pod's
// agent costs in a real container (its cgroup's working set), next to its app's; the image's
// size; the pods' start from created to Ready. The figures are printed for BENCHMARKS.md.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { AppsV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  dockerImageBytes,
  memoryLimitBytes,
  podStartSeconds,
  registryImageBytes,
  type StatsSummary,
  startStatsSampler,
} from "../../tools/bench/node-stats.ts";
import { deployTree, toolsBin } from "../cluster/k8s-render.ts";
import { adminKubeConfig, kubeconfigPath, waitFor } from "../cluster/kube.ts";
import {
  emptyNamespace,
  isReady,
  NS,
  output,
  podsOf,
  type Running,
  skaffold,
  startRunning,
  waitNamespaceGone,
} from "./skaffold.ts";

const WINDOW_MS = 30_000;

let kc: KubeConfig;
let core: CoreV1Api;
let bin: string;
let tree: Awaited<ReturnType<typeof deployTree>>;
let home: string;
let forward: Running | undefined;
let deployed = false;

beforeAll(async () => {
  bin = await toolsBin();
  tree = await deployTree();
  home = await mkdtemp(path.join(tmpdir(), "swell-node-home-"));
  kc = adminKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  await emptyNamespace(kc, bin);
}, 10 * 60_000);
afterAll(async () => {
  await forward?.stop("SIGTERM", 5_000);
  if (deployed) {
    // Leave the node empty for the next file.
    await skaffold({ bin, home, dir: tree.dir }, ["delete"], 180_000);
    await waitNamespaceGone(kc);
  }
  await tree?.remove();
  if (home) await rm(home, { recursive: true, force: true });
}, 6 * 60_000);

const MiB = 2 ** 20;
const fmt = (s: StatsSummary) =>
  Object.fromEntries(
    Object.entries(s.containers).map(([k, c]) => [
      k,
      {
        readings: c.readings,
        workingSetMiB: {
          p50: +(c.workingSetBytes.p50 / MiB).toFixed(1),
          max: +(c.workingSetBytes.max / MiB).toFixed(1),
        },
        rssMiB: {
          p50: +(c.rssBytes.p50 / MiB).toFixed(1),
          max: +(c.rssBytes.max / MiB).toFixed(1),
        },
        cpuMillicores: c.cpuNanoCores
          ? {
              p50: +(c.cpuNanoCores.p50 / 1e6).toFixed(1),
              max: +(c.cpuNanoCores.max / 1e6).toFixed(1),
            }
          : null,
      },
    ]),
  );

/** Sends `rps` requests per second of GET / and a tenth as many orders until `untilMs`. */
async function traffic(
  base: string,
  rps: number,
  untilMs: number,
): Promise<{ ok: number; failed: number }> {
  let ok = 0;
  let failed = 0;
  let i = 0;
  const inflight: Promise<void>[] = [];
  while (Date.now() < untilMs) {
    const order = i % 10 === 0;
    i++;
    inflight.push(
      fetch(`${base}${order ? "/orders" : "/"}`, {
        method: order ? "POST" : "GET",
        headers: order ? { "content-type": "application/json" } : {},
        body: order ? JSON.stringify({ item: "book", quantity: 1 }) : undefined,
        signal: AbortSignal.timeout(5_000),
      }).then(
        async (res) => {
          await res.body?.cancel();
          if (res.status < 300) ok++;
          else failed++;
        },
        () => {
          failed++;
        },
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000 / rps));
  }
  await Promise.all(inflight);
  return { ok, failed };
}

/** The folder named `name` under `root`, at most `depth` levels down. */
async function findDir(root: string, name: string, depth: number): Promise<string | undefined> {
  if (depth < 0) return undefined;
  for (const e of await readdir(root, { withFileTypes: true }).catch(() => [])) {
    if (!e.isDirectory()) continue;
    const dir = path.join(root, e.name);
    if (e.name === name) return dir;
    const found = await findDir(dir, name, depth - 1);
    if (found) return found;
  }
  return undefined;
}

describe("the kubelet's stats of the pods on a real node (tools/bench/node-stats.ts)", () => {
  it("agent and app containers: working set above 0 and below the limit, CPU from the kubelet, idle and under traffic", async () => {
    const r = await skaffold(
      { bin, home, dir: tree.dir },
      [
        "run",
        "--profile=build-host-network",
        `--default-repo=${inject("defaultRepo")}`,
        "--status-check=true",
        "--port-forward=off",
      ],
      25 * 60_000,
    );
    deployed = true;
    expect(r.code, output(r)).toBe(0);
    const apps = kc.makeApiClient(AppsV1Api);
    for (const name of ["api", "worker"]) {
      // The controller scales both up to their policies' minReplicas (2) after the rollout.
      await waitFor(
        `${name}: 2 replicas Ready`,
        async () => {
          const d = await apps.readNamespacedDeployment({ name, namespace: NS });
          return d.spec?.replicas === 2 && d.status?.readyReplicas === 2;
        },
        240_000,
      );
    }
    const sampler = () =>
      startStatsSampler({
        kubeConfig: kc,
        core,
        nodeName: "swn-node",
        namespace: NS,
        intervalMs: 1_000,
      });

    const idleSampler = sampler();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const idle = await idleSampler.stop();

    forward = startRunning(
      path.join(bin, "kubectl"),
      [
        `--kubeconfig=${kubeconfigPath()}`,
        "-n",
        NS,
        "port-forward",
        "--address=127.0.0.1",
        "svc/api",
        ":80",
      ],
      tree.dir,
      process.env,
    );
    const port = (await forward.waitForOutput(/Forwarding from 127\.0\.0\.1:(\d+)/, 30_000))[1];
    const busySampler = sampler();
    const sent = await traffic(`http://127.0.0.1:${port}`, 20, Date.now() + WINDOW_MS);
    const busy = await busySampler.stop();
    await forward.stop("SIGTERM", 5_000);
    console.error(`node stats: idle ${JSON.stringify(fmt(idle))}`);
    console.error(
      `node stats: traffic (${sent.ok} ok, ${sent.failed} failed) ${JSON.stringify(fmt(busy))}`,
    );
    expect(sent.failed).toBe(0);
    expect(sent.ok).toBeGreaterThan((WINDOW_MS / 1000) * 10);

    // What the working set leaves out, from the agent's own cgroup (v1 on this kernel): the
    // page cache charged to it, mapped (the node binary's code) or not, active or inactive.
    const agentPod = (await podsOf(core, "api")).find(isReady);
    const agentId = agentPod?.status?.initContainerStatuses
      ?.find((c) => c.name === "swell-agent")
      ?.containerID?.replace("containerd://", "");
    const cgroup = await findDir("/sys/fs/cgroup/memory/swell-node", agentId ?? "-", 6);
    expect(cgroup, `the agent's memory cgroup (${agentId})`).toBeDefined();
    const stat = Object.fromEntries(
      (await readFile(path.join(cgroup ?? "", "memory.stat"), "utf8"))
        .trim()
        .split("\n")
        .map((line) => line.split(" "))
        .map(([k, v]) => [k, +(Number(v) / MiB).toFixed(1)]),
    );
    console.error(
      `node stats: api's agent cgroup memory.stat (MiB): ${JSON.stringify(
        Object.fromEntries(
          ["rss", "cache", "mapped_file", "active_file", "inactive_file"].map((k) => [k, stat[k]]),
        ),
      )}`,
    );
    expect(stat.rss).toBeGreaterThan(0);

    for (const s of [idle, busy]) {
      for (const key of ["api/api", "api/swell-agent", "worker/worker", "worker/swell-agent"]) {
        const c = s.containers[key];
        expect(c, `${key} in ${Object.keys(s.containers).join(", ")}`).toBeDefined();
        const [workload = "", container = ""] = key.split("/");
        const pod = (await podsOf(core, workload)).find(isReady);
        const limit = pod && memoryLimitBytes(pod, container);
        expect(limit, key).toBeGreaterThan(0);
        expect(c?.workingSetBytes.max, key).toBeGreaterThan(0);
        expect(c?.workingSetBytes.max, key).toBeLessThan(limit ?? 0);
        expect(c?.cpuNanoCores?.max, `${key}: CPU nanocores`).toBeGreaterThan(0);
      }
    }
  });

  it("the image's size in the registry and in Docker, and the pods' start from created to Ready", async () => {
    const pods = [...(await podsOf(core, "api")), ...(await podsOf(core, "worker"))];
    const image = pods[0]?.spec?.containers[0]?.image ?? "";
    // skaffold deploys <registry>/swell:<tag>@sha256:<digest>.
    const m = /^([^/]+)\/([^:@]+):[^@]+@(sha256:[0-9a-f]{64})$/.exec(image);
    expect(m, image).not.toBeNull();
    const [, registry, repository, digest] = m as RegExpExecArray;
    expect(registry).toBe(inject("defaultRepo"));
    const pulled = await registryImageBytes(registry ?? "", repository ?? "", digest ?? "");
    const unpacked = await dockerImageBytes(inject("dockerSocket"), image.split("@")[0] ?? "");
    expect(pulled).toBeGreaterThan(10 * MiB);
    expect(pulled).toBeLessThan(unpacked);
    const starts = pods.map((p) => podStartSeconds(p));
    for (const s of starts) {
      expect(s.ready).toBeGreaterThanOrEqual(0);
      expect(s.ready).toBeLessThan(240);
    }
    console.error(
      `node stats: image ${repository} ${(pulled / MiB).toFixed(1)} MiB in the registry (compressed), ${(unpacked / MiB).toFixed(1)} MiB unpacked; pods created → Ready: ${starts.map((s) => s.ready).join(", ")} s`,
    );
  });
});
