import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { runBuildScript } from "../cluster/binaries.ts";
import { type ControlPlane, poll, startControlPlane } from "../cluster/control-plane.ts";
import { freePorts } from "../cluster/net.ts";
import { createSupervisor } from "../cluster/processes.ts";
import { cleanupNode, createPodCgroup } from "./cleanup.ts";
import { docker, dockerCli, importBaseImage, pushPauseImage } from "./docker.ts";
import { nodeName, startNodeAgents } from "./kubelet.ts";
import { type NodeNetwork, net, setupNetwork } from "./network.ts";
import { startContainerd, startDockerd, startRegistry } from "./runtime.ts";

const here = import.meta.dirname;

export interface RealNode {
  /** Admin kubeconfig (server https://198.18.0.1:<port>). */
  kubeconfigPath: string;
  /** The local registry, for `skaffold run --default-repo` and containerd's pulls. */
  defaultRepo: string;
  /** Socket of the node's Docker engine (DOCKER_HOST=unix://...). */
  dockerSocket: string;
  /** A folder to put first on PATH: `docker` there is Debian's CLI, for skaffold. */
  pathDir: string;
  nodeName: string;
  /** Per-run folder: logs/ has one file per daemon. */
  dir: string;
  controlPlane: ControlPlane;
  /** Stops everything and removes what the run made (processes, mounts, interfaces, rules). */
  stop(): Promise<void>;
}

export interface RealNodeOptions {
  /** Per-run folder; a folder left there by a crashed run is cleaned up first. */
  dir?: string;
  log?: (line: string) => void;
  timeoutMs?: number;
}

/** Where a run keeps its state (fixed, so the next start finds a crashed run's leftovers). */
export const defaultRunDir = "/tmp/swell-node";

/**
 * Builds (first use) and starts a real single-node cluster: the local control plane with its
 * apiserver on the node's address, the local registry, Docker, containerd, kubelet,
 * kube-proxy and CoreDNS. Resolves once the node is Ready and CoreDNS answers.
 */
export async function startRealNode(opts: RealNodeOptions = {}): Promise<RealNode> {
  const log = opts.log ?? (() => {});
  const dir = opts.dir ?? defaultRunDir;
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  if (process.getuid?.() !== 0)
    throw new Error("the real node needs root (network, mounts, cgroups)");

  const [clusterBin, nodeBin, baseTar] = [
    await runBuildScript(join(here, "../cluster/build.sh"), "the cluster binaries"),
    await runBuildScript(join(here, "build.sh"), "the node binaries"),
    await runBuildScript(join(here, "base-image.sh"), "the node:24-slim base image"),
  ];

  await cleanupNode(dir, log);
  await mkdir(join(dir, "logs"), { recursive: true });
  let network: NodeNetwork | undefined;
  const supervisor = createSupervisor(join(dir, "logs"));
  let controlPlane: ControlPlane | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (controlPlane) await drainNode(controlPlane.kubeconfigPath, log).catch(() => {});
    await supervisor.stopAll(15_000);
    await controlPlane?.stop();
    await network?.teardown();
    await cleanupNode(dir, log);
  };
  try {
    network = await setupNetwork();
    controlPlane = await startControlPlane({
      binDir: clusterBin,
      nodes: 0,
      log,
      realNode: {
        address: net.nodeIp,
        serviceCidr: net.serviceCidr,
        serviceIp: net.serviceIp,
        nodeName,
      },
    });
    const cp = controlPlane;
    const [registryPort, kubelet, kubeletHealthz, proxyHealthz, proxyMetrics] = await freePorts(5);
    const registry = await startRegistry(supervisor, join(dir, "registry"), registryPort ?? 0);
    log(`node: registry on ${registry}, Docker engine, containerd`);
    const dockerSocket = await startDockerd(supervisor, join(dir, "docker"));
    const sandboxImage = `${registry}/pause:${nodeBinVersion(nodeBin)}`;
    const containerdSocket = await startContainerd(supervisor, join(dir, "containerd"), {
      registry,
      sandboxImage,
    });
    const until = (what: string, check: () => Promise<boolean>) =>
      poll(what, check, supervisor, deadline);
    await until("registry /v2/", async () => (await fetch(`http://${registry}/v2/`)).ok);
    await until("Docker engine", async () => {
      await docker(dockerSocket, ["version"]);
      return true;
    });
    log("node: importing node:24-slim, pushing the pause image");
    await importBaseImage(dockerSocket, baseTar);
    await pushPauseImage(dockerSocket, join(dir, "pause"), join(nodeBin, "pause"), sandboxImage);

    log("node: starting kubelet, kube-proxy, CoreDNS");
    await createPodCgroup();
    await startNodeAgents(supervisor, {
      binDir: nodeBin,
      dir: join(dir, "node"),
      server: cp.server,
      pki: cp.pki,
      adminKubeconfig: cp.kubeconfigPath,
      containerdSocket,
      ports: {
        kubelet: kubelet ?? 0,
        kubeletHealthz: kubeletHealthz ?? 0,
        proxyHealthz: proxyHealthz ?? 0,
        proxyMetrics: proxyMetrics ?? 0,
      },
    });
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await until(`node ${nodeName} Ready`, async () => {
      const node = await core.readNode({ name: nodeName });
      return (
        node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false
      );
    });
    await until("kube-proxy /healthz", async () => {
      return (await fetch(`http://127.0.0.1:${proxyHealthz}/healthz`)).ok;
    });
    const pathDir = join(dir, "bin");
    await mkdir(pathDir, { recursive: true });
    await symlink(dockerCli, join(pathDir, "docker"));
    log(`node: ${nodeName} Ready`);
    return {
      kubeconfigPath: cp.kubeconfigPath,
      defaultRepo: registry,
      dockerSocket,
      pathDir,
      nodeName,
      dir,
      controlPlane: cp,
      stop,
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await stop().catch(() => {});
    throw new Error(`real node did not start: ${message}`);
  }
}

/** The Kubernetes version the node binaries were built at, from their folder's name. */
function nodeBinVersion(binDir: string): string {
  return /node-(v[^/]+)\/bin/.exec(binDir)?.[1] ?? "latest";
}

/**
 * Cordons the node and deletes every pod on it, so the kubelet stops them (and unmounts their
 * volumes) before it stops itself. Their ReplicaSets make new pods, which stay unscheduled.
 */
async function drainNode(kubeconfigPath: string, log: (line: string) => void): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  await core.patchNode(
    { name: nodeName, body: { spec: { unschedulable: true } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  const onNode = async () =>
    (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` })).items;
  const pods = await onNode();
  if (pods.length === 0) return;
  log(`node: stopping ${pods.length} pods`);
  for (const p of pods) {
    const { name, namespace } = p.metadata ?? {};
    if (name && namespace) {
      await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 5 }).catch(() => {});
    }
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await onNode()).length > 0) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
