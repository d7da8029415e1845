// The repository on a real node (tools/node): `skaffold run` builds the image from the
// Dockerfile with the real Docker engine, pushes it to the local registry, and the kubelet runs
// the pods from it with containerd; then what only a real node can show: probes, the projected
// token, SIGTERM and the drain, the image's user and read-only root. One file, in order: the
// later tests use what `skaffold run` deployed.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  Log,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { docker } from "../../tools/node/docker.ts";
import { deployTree, run, toolsBin } from "../cluster/k8s-render.ts";
import { adminKubeConfig, kubeconfigPath, waitFor } from "../cluster/kube.ts";
import { isReady, NS, output, podsOf, skaffold as skaffoldIn } from "./skaffold.ts";

const DEPLOYMENTS = ["api", "worker", "swell-controller"];

let kc: KubeConfig;
let core: CoreV1Api;
let tree: Awaited<ReturnType<typeof deployTree>>;
let home: string;
let bin: string;

beforeAll(async () => {
  bin = await toolsBin();
  tree = await deployTree();
  home = await mkdtemp(path.join(tmpdir(), "swell-node-home-"));
  kc = adminKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
}, 60 * 60_000);
afterAll(async () => {
  await tree?.remove();
  if (home) await rm(home, { recursive: true, force: true });
});

const skaffold = (args: string[], timeoutMs: number) =>
  skaffoldIn({ bin, home, dir: tree.dir }, args, timeoutMs);
const pods = (app: string) => podsOf(core, app);

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe("the repository on a real node", () => {
  it("skaffold run builds the image with Docker, pushes it to the local registry, and every Deployment rolls out Ready", async () => {
    const r = await skaffold(
      [
        "run",
        "--profile=build-host-network",
        `--default-repo=${inject("defaultRepo")}`,
        "--status-check=true",
        "--port-forward=off",
      ],
      25 * 60_000,
    );
    expect(r.code, output(r)).toBe(0);
    const apps = kc.makeApiClient(AppsV1Api);
    for (const name of DEPLOYMENTS) {
      // Right after the rollout the controller, now leading, scales api and worker up to their
      // ScalingPolicy's minReplicas (2): wait until those replicas are Ready too.
      const d = await waitFor(
        `${name}: at least 2 replicas, all Ready`,
        async () => {
          const dep = await apps.readNamespacedDeployment({ name, namespace: NS });
          const want = dep.spec?.replicas ?? 1;
          const status = dep.status;
          return want >= 2 && status?.readyReplicas === want && status.updatedReplicas === want
            ? dep
            : undefined;
        },
        240_000,
      );
      const image = d.spec?.template.spec?.containers[0]?.image ?? "";
      expect(image.startsWith(`${inject("defaultRepo")}/swell:`), image).toBe(true);
    }
    // The pods run on the real node, their containers started by containerd from that image.
    for (const p of [...(await pods("api")), ...(await pods("worker"))]) {
      expect(p.spec?.nodeName).toBe("swn-node");
      const statuses = [
        ...(p.status?.initContainerStatuses ?? []),
        ...(p.status?.containerStatuses ?? []),
      ];
      expect(statuses.map((s) => s.name).sort()).toEqual(
        [p.metadata?.labels?.["app.kubernetes.io/name"], "swell-agent"].sort(),
      );
      for (const s of statuses) {
        expect(s.containerID?.startsWith("containerd://"), s.name).toBe(true);
        expect(s.started, s.name).toBe(true);
      }
    }
  });

  it("both controller replicas are up and exactly one is the Lease's leader", async () => {
    const controllers = await waitFor(
      "2 Ready controller pods",
      async () => {
        const list = (await pods("swell-controller")).filter(isReady);
        return list.length === 2 ? list : undefined;
      },
      120_000,
    );
    const names = controllers.map((p) => p.metadata?.name);
    const lease = await waitFor("the controller Lease held", async () => {
      const l = await kc
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: "swell-controller", namespace: NS });
      return l.spec?.holderIdentity ? l : undefined;
    });
    expect(names).toContain(lease.spec?.holderIdentity);
    // Each replica, asked on its pod IP, names the same leader and itself.
    for (const p of controllers) {
      const { body } = await getJson(`http://${p.status?.podIP}:9090/v1/workloads`);
      expect(body).toMatchObject({
        leader: lease.spec?.holderIdentity,
        identity: p.metadata?.name,
      });
    }
  });

  it("the agents report with the token the kubelet projected: the controller's TokenReview accepts it, for its own workload only", async () => {
    // The Lease holder: a follower keeps no workload state of its own (it forwards reports).
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: "swell-controller", namespace: NS });
    const leader = (await pods("swell-controller")).find(
      (p) => isReady(p) && p.metadata?.name === lease.spec?.holderIdentity,
    );
    expect(leader, "the Lease holder is a Ready controller pod").toBeDefined();
    const controllerUrl = `http://${leader?.status?.podIP}:9090`;
    // Every Ready pod of api and worker is counted as reporting: its agent's reports passed
    // the TokenReview of the token in its projected volume.
    for (const app of ["api", "worker"]) {
      await waitFor(
        `${app}: every pod reporting`,
        async () => {
          const ready = (await pods(app)).filter(isReady).length;
          const { status, body } = await getJson(`${controllerUrl}/v1/workloads/${NS}/${app}`);
          const reporting = (body as { pods?: { reporting?: number } }).pods?.reporting;
          return status === 200 && ready > 0 && reporting === ready;
        },
        90_000,
      );
    }
    // The very token the kubelet wrote for an api pod, read from the kubelet's volume folder.
    const api = (await pods("api")).find(isReady);
    const uid = api?.metadata?.uid ?? "";
    const tokenFile = path.join(
      inject("nodeDir"),
      "node/kubelet/pods",
      uid,
      "volumes/kubernetes.io~projected/swell-token/token",
    );
    const token = (await readFile(tokenFile, "utf8")).trim();
    expect(token.split(".")).toHaveLength(3);
    const now = Date.now();
    const report = (workload: string) => ({
      workload: { namespace: NS, kind: "Deployment", name: workload },
      pod: { name: api?.metadata?.name, uid },
      seq: 1,
      window: { start: now - 1000, end: now },
      app: "ready",
      signals: { requestRate: 1 },
    });
    const post = (body: unknown, auth?: string) =>
      fetch(`${controllerUrl}/v1/reports`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5_000),
      });
    const forged = await post(report("worker"), `Bearer ${token}`);
    expect(forged.status).toBe(403);
    expect(forged.headers.get("content-type")).toContain("application/problem+json");
    expect(await forged.json()).toMatchObject({ status: 403 });
    const noToken = await post(report("api"));
    expect(noToken.status).toBe(401);
  });

  it("kubectl delete pod of a worker with jobs queued: readiness drops first, kubelet's SIGTERM drains it, every accepted job finishes", async () => {
    const worker = (await pods("worker")).find(isReady);
    const name = worker?.metadata?.name ?? "";
    const ip = worker?.status?.podIP;
    const base = `http://${ip}:8080`;
    // 40 jobs of 400 ms on 4 workers: 4 s of queued work, more than is done before the drain.
    let accepted = 0;
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${base}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ costMs: 400 }),
      });
      if (res.status === 202) accepted++;
      await res.body?.cancel();
    }
    expect(accepted).toBe(40);

    // The worker's log, streamed through the apiserver from the kubelet until the container ends.
    const logStream = new PassThrough();
    let logText = "";
    logStream.on("data", (chunk: Buffer) => {
      logText += chunk.toString("utf8");
    });
    const follow = await new Log(kc).log(NS, name, "worker", logStream, { follow: true });
    const ended = new Promise<void>((resolve) => logStream.on("end", resolve));

    const kubectl = await run(path.join(bin, "kubectl"), [
      `--kubeconfig=${kubeconfigPath()}`,
      "-n",
      NS,
      "delete",
      "pod",
      name,
      "--wait=false",
    ]);
    expect(kubectl.code, kubectl.stderr).toBe(0);

    // Readiness drops while the process still serves: /readyz 503, /healthz 200, and the
    // EndpointSlice marks the pod not ready.
    await waitFor(
      "the worker's /readyz 503 while /healthz is 200",
      async () => {
        const [ready, live] = await Promise.all([
          fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) }),
          fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) }),
        ]);
        return ready.status === 503 && live.status === 200;
      },
      10_000,
    );
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    await waitFor(
      "the EndpointSlice marks the pod not ready",
      async () => {
        const slices = await discovery.listNamespacedEndpointSlice({
          namespace: NS,
          labelSelector: "kubernetes.io/service-name=worker",
        });
        const endpoint = slices.items
          .flatMap((s) => s.endpoints)
          .find((e) => e?.targetRef?.name === name);
        return endpoint === undefined || endpoint.conditions?.ready === false;
      },
      10_000,
    );
    expect(logText).not.toContain("shutdown complete");

    await Promise.race([
      ended,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no end of the log:\n${logText}`)), 60_000),
      ),
    ]);
    follow?.abort();
    const last = logText
      .split("\n")
      .filter((line) => line.includes("shutdown complete"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(last, logText.slice(-3000)).toHaveLength(1);
    expect(last[0]).toMatchObject({ abandoned: 0, requests_finished: true });
    expect(last[0]?.finished_total).toBe(accepted);
    expect(logText).toMatch(/"reason":"SIGTERM"/);
  });

  it("the image: built from the Dockerfile, runs as uid 1000 on a read-only root, without npm, npx, corepack or yarn", async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const d = await apps.readNamespacedDeployment({ name: "api", namespace: NS });
    const image = d.spec?.template.spec?.containers[0]?.image ?? "";
    const host = inject("dockerSocket");
    const [inspect] = JSON.parse(await docker(host, ["image", "inspect", image])) as {
      Size: number;
      Config: { User: string; Entrypoint: string[] };
    }[];
    expect(inspect?.Config.User).toBe("1000:1000");
    expect(inspect?.Config.Entrypoint).toEqual(["node"]);
    const sizeMb = (inspect?.Size ?? 0) / 1e6;
    console.error(`node tests: image ${image} is ${sizeMb.toFixed(0)} MB`);
    // The base alone is about 280 MB; production node_modules and dist/ add about 60.
    expect(sizeMb).toBeGreaterThan(200);
    expect(sizeMb).toBeLessThan(450);
    const probe = `
      const fs = require("node:fs");
      let write = "written";
      try { fs.writeFileSync("/app/probe", "x"); } catch (e) { write = e.code; }
      const gone = ["/usr/local/bin/npm", "/usr/local/bin/npx", "/usr/local/bin/corepack",
        "/usr/local/bin/yarn", "/usr/local/lib/node_modules/npm"].filter((f) => fs.existsSync(f));
      console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), write, left: gone }));`;
    const out = await docker(host, [
      "run",
      "--rm",
      "--read-only",
      "--network=none",
      image,
      "-e",
      probe,
    ]);
    expect(JSON.parse(out.trim())).toEqual({ uid: 1000, gid: 1000, write: "EROFS", left: [] });
    // In the pods, the kubelet ran it read-only too: the manifests ask for it.
    const p = (await pods("api")).find(isReady);
    for (const c of [...(p?.spec?.initContainers ?? []), ...(p?.spec?.containers ?? [])]) {
      expect(c.securityContext?.readOnlyRootFilesystem, c.name).toBe(true);
    }
  });
});
