// skaffold.yaml, run by the real skaffold (built by tools/skaffold/build.sh) against the cluster
// of the run: `skaffold diagnose` reads every profile, `skaffold render` puts the given image
// tag into every container (sidecars included), and `skaffold deploy` of given tags reaches a
// healthy status check on the kwok nodes. No image is built: there is no Docker engine here.
// `skaffold diagnose` lists the Dockerfile's inputs and, for ONBUILD triggers, reads the base
// image's config from the Docker engine: a stand-in Docker API answers that one question.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allContainers,
  deployTree,
  find,
  type K8sObject,
  kustomize,
  label,
  parseObjects,
  podSpec,
  type RunResult,
  run,
  toolsBin,
  toolsEnv,
} from "./k8s-render.ts";
import { adminKubeConfig, kubeconfigPath, waitFor } from "./kube.ts";

const TAG = "registry.example.com/swell:v0.0.0-test";
const NAMESPACE = "swell";

let bin: string;
let tree: Awaited<ReturnType<typeof deployTree>>;
let home: string;
let kc: KubeConfig;
let dockerApi: Server;
let dockerHost: string;
const baseImagesAsked: string[] = [];

// A stand-in for the Docker engine's API (none runs here): the ping, and an image inspect of
// any base image, with no ONBUILD triggers. Everything else is 404.
function startDockerApiStandIn(): Promise<void> {
  dockerApi = createServer((req, res) => {
    res.setHeader("Api-Version", "1.45");
    res.setHeader("Content-Type", "application/json");
    const url = req.url ?? "";
    const image = /\/images\/(.+)\/json$/.exec(url)?.[1];
    if (url.endsWith("/_ping")) {
      res.end("OK");
    } else if (image && req.method === "GET") {
      baseImagesAsked.push(decodeURIComponent(image));
      res.end(
        JSON.stringify({
          Id: `sha256:${"0".repeat(64)}`,
          Architecture: "amd64",
          Os: "linux",
          Config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"], OnBuild: null },
        }),
      );
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ message: `stand-in Docker API: no ${req.method} ${url}` }));
    }
  });
  return new Promise((resolve) =>
    dockerApi.listen(0, "127.0.0.1", () => {
      dockerHost = `tcp://127.0.0.1:${(dockerApi.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

// skaffold with the built kubectl first on PATH, the test cluster's kubeconfig, a home of its
// own (skaffold's and kubectl's caches), and no update check or prompt (nothing to reach).
function skaffold(args: string[], timeoutMs = 110_000): Promise<RunResult> {
  return run(path.join(bin, "skaffold"), args, {
    cwd: tree.dir,
    timeoutMs,
    env: toolsEnv(bin, {
      KUBECONFIG: kubeconfigPath(),
      HOME: home,
      SKAFFOLD_UPDATE_CHECK: "false",
      SKAFFOLD_INTERACTIVE: "false",
      SKAFFOLD_COLLECT_METRICS: "false",
      DOCKER_HOST: dockerHost,
    }),
  });
}
const output = (r: RunResult) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`.slice(-6000);

beforeAll(async () => {
  bin = await toolsBin();
  tree = await deployTree();
  home = await mkdtemp(path.join(tmpdir(), "swell-skaffold-home-"));
  kc = adminKubeConfig();
  await startDockerApiStandIn();
}, 60 * 60_000);
afterAll(async () => {
  dockerApi?.close();
  await tree?.remove();
  if (home) await rm(home, { recursive: true, force: true });
});

const PROFILES = [
  { profile: "", target: "runtime", paths: ["k8s/base"] },
  { profile: "dev", target: "dev", paths: ["k8s/overlays/dev"] },
  { profile: "load", target: "runtime", paths: ["k8s/overlays/load"] },
  { profile: "hpa", target: "runtime", paths: ["k8s/overlays/hpa"] },
  { profile: "hpa-load", target: "runtime", paths: ["k8s/overlays/hpa-load"] },
  { profile: "hpa-cpu", target: "runtime", paths: ["k8s/overlays/hpa-cpu"] },
];
const profileArgs = (profile: string) => (profile ? ["-p", profile] : []);

describe("skaffold diagnose (the base image's config from a stand-in Docker API)", () => {
  it.each(PROFILES)(
    "profile '$profile': the config is valid and the image's inputs resolve",
    async ({ profile }) => {
      const r = await skaffold(["diagnose", ...profileArgs(profile)]);
      expect(r.code, output(r)).toBe(0);
      expect(r.stdout).toMatch(/Number of artifacts: 1/);
      // Every COPY source is in the context .dockerignore leaves (else diagnose fails above).
      expect(Number(/Dependencies: (\d+) files/.exec(r.stdout)?.[1])).toBeGreaterThan(50);
      expect(baseImagesAsked).toContain("node:24-slim");
    },
  );

  it.each(PROFILES)(
    "profile '$profile': image target $target, manifests $paths, port-forwards to rendered Services",
    async ({ profile, target, paths }) => {
      const r = await skaffold(["diagnose", "--yaml-only", ...profileArgs(profile)]);
      expect(r.code, output(r)).toBe(0);
      const [config] = parseObjects(r.stdout);
      const artifact = config?.build.artifacts[0];
      expect(artifact.image).toBe("swell");
      expect(artifact.docker.target).toBe(target);
      expect(config?.manifests.kustomize.paths).toEqual(paths.map((p) => path.join(tree.dir, p)));
      // Dev syncs TypeScript sources into the image's WORKDIR; the others rebuild.
      expect(artifact.sync?.manual ?? []).toEqual(
        profile === "dev" ? [{ src: "services/**/*.ts", dest: "." }] : [],
      );
      const objs = parseObjects(await kustomize(bin, path.join(tree.dir, paths[0] ?? "")));
      const forwards = config?.portForward as {
        resourceType: string;
        resourceName: string;
        namespace: string;
        port: number;
      }[];
      expect(forwards.map((f) => f.resourceName).sort()).toEqual([
        "api",
        "swell-controller",
        "worker",
      ]);
      for (const f of forwards) {
        expect(f.resourceType).toBe("service");
        const svc = find(objs, "Service", f.resourceName);
        expect(svc.metadata.namespace).toBe(f.namespace);
        expect(svc.spec.ports.map((p: { port: number }) => p.port)).toContain(f.port);
      }
    },
  );

  it("the Dockerfile has the targets skaffold.yaml names, and .dockerignore keeps the context small", async () => {
    const dockerfile = await readFile(path.join(tree.dir, "Dockerfile"), "utf8");
    const targets = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
    expect(targets).toEqual(
      expect.arrayContaining(["deps", "prod-deps", "build", "dev", "runtime"]),
    );
    // The default target (the last stage) is the runtime, as non-root, with production deps.
    expect(targets.at(-1)).toBe("runtime");
    const runtime = dockerfile.slice(dockerfile.search(/^FROM \S+ AS runtime/m));
    expect(runtime).toMatch(/^USER 1000:1000$/m);
    expect(runtime).toMatch(/--from=prod-deps \/app\/node_modules/);
    expect(runtime).toMatch(/--from=build \/app\/dist/);
    const ignore = await readFile(path.join(tree.dir, ".dockerignore"), "utf8");
    expect(ignore.split("\n")).toEqual(expect.arrayContaining(["**", "**/node_modules"]));
  });
});

describe("skaffold render", () => {
  it.each(PROFILES)(
    "profile '$profile': the given tag in every container, the same objects as kustomize",
    async ({ profile, paths }) => {
      const r = await skaffold([
        "render",
        "--offline=true",
        "--digest-source=tag", // the tag as given: there is no registry to ask for a digest
        `--images=swell=${TAG}`,
        ...profileArgs(profile),
      ]);
      expect(r.code, output(r)).toBe(0);
      const objs = parseObjects(r.stdout);
      const plain = parseObjects(await kustomize(bin, path.join(tree.dir, paths[0] ?? "")));
      expect(objs.map(label).sort()).toEqual(plain.map(label).sort());
      const images = objs.flatMap((o) =>
        allContainers(podSpec(o)).map((c) => `${label(o)} ${c.name} ${c.image}`),
      );
      expect(images.length).toBeGreaterThanOrEqual(3); // api, worker, controller (+ agents)
      for (const line of images)
        expect(line).toMatch(new RegExp(`${TAG.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
    },
  );
});

describe("skaffold deploy", () => {
  afterAll(async () => {
    const r = await skaffold(["delete"]);
    expect(r.code, output(r)).toBe(0);
  });

  it("deploys given tags and the status check passes: api, worker and two controllers ready", async () => {
    const artifacts = path.join(home, "build.json");
    await writeFile(artifacts, JSON.stringify({ builds: [{ imageName: "swell", tag: TAG }] }));
    const r = await skaffold(
      ["deploy", `--build-artifacts=${artifacts}`, "--status-check=true"],
      300_000,
    );
    expect(r.code, output(r)).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/Deployments stabilized/);

    const apps = kc.makeApiClient(AppsV1Api);
    for (const [name, replicas] of [
      ["api", 1],
      ["worker", 1],
      ["swell-controller", 2],
    ] as const) {
      const d = await apps.readNamespacedDeployment({ name, namespace: NAMESPACE });
      expect(d.status?.readyReplicas, name).toBe(replicas);
    }
    // Every container of every pod runs the given tag, the agents as native sidecars.
    const pods = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NAMESPACE }))
      .items;
    const running = pods.filter((p) => !p.metadata?.deletionTimestamp);
    expect(running).toHaveLength(4);
    for (const p of running) {
      for (const c of [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])]) {
        expect(c.image, `${p.metadata?.name} ${c.name}`).toBe(TAG);
      }
    }
    for (const p of running.filter(
      (p) => p.metadata?.labels?.["app.kubernetes.io/name"] !== "swell-controller",
    )) {
      expect(p.spec?.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([
        ["swell-agent", "Always"],
      ]);
    }
    // The two controller replicas landed on different nodes.
    const nodes = running
      .filter((p) => p.metadata?.labels?.["app.kubernetes.io/name"] === "swell-controller")
      .map((p) => p.spec?.nodeName);
    expect(new Set(nodes).size).toBe(2);
    // And the ScalingPolicies are there for the controller (the CRD was applied first by the hook).
    const policies = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
      group: "scaling.swell.dev",
      version: "v1alpha1",
      namespace: NAMESPACE,
      plural: "scalingpolicies",
    })) as { items: K8sObject[] };
    expect(policies.items.map((o) => o.metadata.name).sort()).toEqual(["api", "worker"]);
  }, 320_000);

  it("deploys again unchanged (idempotent), as `skaffold run` and `skaffold dev` do on every loop", async () => {
    const artifacts = path.join(home, "build.json");
    const r = await skaffold(
      ["deploy", `--build-artifacts=${artifacts}`, "--status-check=true"],
      300_000,
    );
    expect(r.code, output(r)).toBe(0);
    await waitFor(
      "api still ready",
      async () =>
        (
          await kc
            .makeApiClient(AppsV1Api)
            .readNamespacedDeployment({ name: "api", namespace: NAMESPACE })
        ).status?.readyReplicas === 1,
      30_000,
    );
  }, 320_000);
});
