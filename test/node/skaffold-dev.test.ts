// `skaffold dev` on the real node, as a user runs the inner loop: the repository's skaffold.yaml
// (profile dev, activated by the command) builds the image's dev target with the node's Docker
// engine, deploys k8s/overlays/dev and forwards the Services to loopback. A line changed in a
// handler under services/ is synced into the running containers and answers over the
// port-forward with no new pod; a change to package.json rebuilds the image and rolls the pods.
// Ctrl-C (SIGINT) removes what it deployed. One file, in order: each test uses the session the
// first one started.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { percentile } from "../../tools/bench/stats.ts";
import { deployTree, run, toolsBin } from "../cluster/k8s-render.ts";
import { adminKubeConfig, kubeconfigPath, waitFor } from "../cluster/kube.ts";
import {
  deploymentNames,
  emptyNamespace,
  isReady,
  NS,
  podsOf,
  type Running,
  skaffoldEnv,
  startRunning,
  waitNamespaceGone,
} from "./skaffold.ts";

const APPS = ["api", "worker", "swell-controller"];
const EDITS = 5;
// The handler line each edit changes: `GET /` answers with the name the edit gives it.
const ROUTES = "services/api/routes.ts";
const HANDLER_LINE = 'app.get("/", capacity, infoHandler(deps.info));';

let kc: KubeConfig;
let core: CoreV1Api;
let bin: string;
let tree: Awaited<ReturnType<typeof deployTree>>;
let home: string;
let dev: Running | undefined;

beforeAll(async () => {
  bin = await toolsBin();
  tree = await deployTree();
  home = await mkdtemp(path.join(tmpdir(), "swell-node-home-"));
  kc = adminKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  // What an earlier file deployed would be taken over by skaffold dev's apply, its old pods
  // still terminating while this file counts pods.
  await emptyNamespace(kc, bin);
}, 10 * 60_000);
afterAll(async () => {
  await dev?.stop("SIGINT", 120_000);
  await tree?.remove();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Whether a TCP port on loopback is free now (skaffold takes another one when not). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** The local address skaffold forwards a Service to, from its latest "Port forwarding" line. */
function forwarded(text: string, service: string): URL | undefined {
  const re = new RegExp(
    `Port forwarding service/${service} in namespace ${NS}, remote port \\d+ -> (http://[^\\s]+)`,
    "g",
  );
  const all = [...text.matchAll(re)];
  const last = all.at(-1)?.[1];
  return last ? new URL(last) : undefined;
}

async function getInfo(base: URL): Promise<{ name?: string; version?: string; pod?: string }> {
  const res = await fetch(new URL("/", base), { signal: AbortSignal.timeout(2_000) });
  if (res.status !== 200) throw new Error(`GET / ${res.status}`);
  return (await res.json()) as { name?: string; version?: string; pod?: string };
}

interface PodState {
  uid: string;
  name: string;
  restarts: number;
  imageID: string;
}

async function podStates(): Promise<PodState[]> {
  const out: PodState[] = [];
  for (const app of APPS) {
    for (const p of await podsOf(core, app)) out.push(stateOf(p));
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function stateOf(p: V1Pod): PodState {
  const statuses = [
    ...(p.status?.initContainerStatuses ?? []),
    ...(p.status?.containerStatuses ?? []),
  ];
  const app = p.status?.containerStatuses?.[0];
  return {
    uid: p.metadata?.uid ?? "",
    name: p.metadata?.name ?? "",
    restarts: statuses.reduce((n, s) => n + s.restartCount, 0),
    imageID: app?.imageID ?? "",
  };
}

const devArgs = () => [
  "dev",
  "--profile=build-host-network",
  `--default-repo=${inject("defaultRepo")}`,
  "--port-forward=user",
  "--tail=false",
  "--trigger=notify",
];

describe("skaffold dev on a real node", () => {
  let api: URL;
  let before: PodState[];

  it("builds the dev target, deploys k8s/overlays/dev, forwards the Services to loopback", async () => {
    for (const port of [8080, 8081, 9090]) {
      // Informational: skaffold picks a free port itself when one is taken, and says which.
      if (!(await portFree(port))) console.error(`skaffold dev: local port ${port} is taken`);
    }
    const started = Date.now();
    dev = startRunning(path.join(bin, "skaffold"), devArgs(), tree.dir, skaffoldEnv(bin, home));
    await dev.waitForOutput(/Watching for changes/, 20 * 60_000);
    console.error(
      `skaffold dev: build, deploy and forward in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    const text = dev.text();
    expect(text).toMatch(/Deployments stabilized/);
    for (const service of ["api", "worker", "swell-controller"]) {
      const url = forwarded(text, service);
      expect(url, `a port-forward for ${service}:\n${text.slice(-3000)}`).toBeDefined();
      expect(url?.hostname).toBe("127.0.0.1");
    }
    api = forwarded(text, "api") as URL;
    // The dev overlay: one replica each, running the sources under node --watch.
    for (const app of APPS) {
      const ready = (await podsOf(core, app)).filter(isReady);
      expect(ready, app).toHaveLength(1);
      const args = ready[0]?.spec?.containers[0]?.args ?? [];
      expect(args[0], app).toBe("--watch");
      expect(args.at(-1)?.endsWith("/main.ts"), app).toBe(true);
    }
    const info = await waitFor("GET / over the port-forward", async () =>
      getInfo(api).catch(() => undefined),
    );
    expect(info.name).toBe("api");
    before = await podStates();
    expect(before).toHaveLength(3);
  });

  it(`a changed handler line answers over the port-forward within 5 s, ${EDITS} times, with no new pod`, async () => {
    const file = path.join(tree.dir, ROUTES);
    const original = await readFile(file, "utf8");
    expect(original).toContain(HANDLER_LINE);
    const times: number[] = [];
    const phases: string[] = [];
    for (let i = 1; i <= EDITS; i++) {
      const marker = `api-edit-${i}`;
      const from = dev?.text().length ?? 0;
      await writeFile(
        file,
        original.replace(
          HANDLER_LINE,
          `app.get("/", capacity, infoHandler({ ...deps.info, name: "${marker}" }));`,
        ),
      );
      const edited = Date.now();
      // Polled every 50 ms: the restart's refused connections and 503s are part of the wait.
      const answered = await waitUntilAnswer(api, marker, 30_000).catch((err: Error) => {
        throw new Error(`${err.message}\nskaffold since the edit:\n${dev?.text().slice(from)}`);
      });
      times.push(answered - edited);
      const sync = await dev?.waitForOutput(/Syncing 1 files for/, 10_000, from);
      // Let skaffold settle (it prints this after each sync) before the next edit.
      const watching = await dev?.waitForOutput(/Watching for changes/, 10_000, from);
      // Where the time went: skaffold's notice (its watch waits out a quiet interval, 1 s by
      // default), the copy into the containers, then node --watch's restart and first answer.
      const syncAt = dev?.timeAt(from + (sync?.index ?? 0)) ?? Number.NaN;
      const syncedAt = dev?.timeAt(from + (watching?.index ?? 0)) ?? Number.NaN;
      phases.push(`${syncAt - edited}/${syncedAt - syncAt}/${answered - syncedAt}`);
    }
    const p50 = percentile(times, 50);
    const max = Math.max(...times);
    console.error(
      `skaffold dev: edit → answer over the port-forward, ${EDITS} edits: p50 ${p50} ms, max ${max} ms (${times.join(", ")} ms; notice/copy/restart: ${phases.join(", ")} ms)`,
    );
    for (const t of times) expect(t).toBeLessThan(5_000);
    // No image was built for them and no pod replaced or restarted: same UIDs, same counts.
    expect(dev?.text().match(/Building \[/g) ?? []).toHaveLength(1);
    expect(await podStates()).toEqual(before);
  });

  it("a change to package.json rebuilds the image and rolls the pods; the new pods answer", async () => {
    const file = path.join(tree.dir, "package.json");
    const pkg = JSON.parse(await readFile(file, "utf8")) as { version: string };
    const version = `${pkg.version}-dev.1`;
    const from = dev?.text().length ?? 0;
    await writeFile(file, `${JSON.stringify({ ...pkg, version }, null, 2)}\n`);
    await dev?.waitForOutput(/Building \[/, 60_000, from);
    await dev?.waitForOutput(/Deployments stabilized/, 15 * 60_000, from);
    await dev?.waitForOutput(/Watching for changes/, 60_000, from);
    const oldUids = new Set(before.map((p) => p.uid));
    const after = await waitFor(
      "every app's pods replaced, Ready, the old ones gone",
      async () => {
        const states = await podStates();
        const pods = (await Promise.all(APPS.map((a) => podsOf(core, a)))).flat();
        const done =
          states.length === APPS.length &&
          states.every((s) => !oldUids.has(s.uid)) &&
          pods.every(isReady);
        return done ? states : undefined;
      },
      120_000,
    );
    const oldImage = before.find((p) => p.name.startsWith("api-"))?.imageID;
    const newImage = after.find((p) => p.name.startsWith("api-"))?.imageID;
    expect(newImage).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(newImage).not.toBe(oldImage);
    // The new pods answer, with the version the rebuilt image's package.json says, over the
    // port-forward skaffold set up again for them.
    const newApi = after.find((p) => p.name.startsWith("api-"))?.name;
    const info = await waitFor(
      "GET / answered by the new api pod",
      async () => {
        const url = forwarded(dev?.text() ?? "", "api");
        const got = url ? await getInfo(url).catch(() => undefined) : undefined;
        return got?.pod === newApi ? got : undefined;
      },
      60_000,
    );
    expect(info).toMatchObject({ name: "api-edit-5", version });
  });

  it("SIGINT stops skaffold dev and removes what it deployed, namespace and CRD included", async () => {
    const code = await dev?.stop("SIGINT", 180_000);
    expect(code, dev?.text().slice(-3000)).toBe(0);
    expect(await deploymentNames(kc)).toEqual([]);
    // Its manifests include the namespace: the next file's deploy must not meet it terminating.
    await waitNamespaceGone(kc);
    // And the ScalingPolicy CRD, which the manifests carry too (with it, any policy anywhere).
    const crd = await run(path.join(bin, "kubectl"), [
      `--kubeconfig=${kubeconfigPath()}`,
      "get",
      "crd",
      "scalingpolicies.scaling.swell.dev",
    ]);
    expect(crd.stderr).toMatch(/NotFound/);
  });
});

/** Polls `GET /` until it answers with `name`; the time it did (ms since the epoch). */
async function waitUntilAnswer(base: URL, name: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const info = await getInfo(base);
      if (info.name === name) return Date.now();
      last = JSON.stringify(info);
    } catch (err) {
      last = String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`GET / never answered as ${name} in ${timeoutMs} ms (last: ${last})`);
}
