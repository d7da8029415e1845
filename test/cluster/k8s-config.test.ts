// The settings the manifests give each program are ones it accepts: the api, the worker and the
// agent are started as real processes (from their sources, as the dev image runs them) with
// exactly the environment their container gets (ConfigMap and Secret through envFrom, env,
// the downward API filled in as the kubelet would), and must reach their first log line
// instead of exiting 2 on a config problem. The controller needs a cluster to start, so its
// environment goes through its own config schema. And the timings fit together.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDurationMs, parseEnv } from "../../services/kit/config.ts";
import { controllerEnv } from "../../sidecar/controller/config.ts";
import {
  allContainers,
  deployTree,
  find,
  type K8sObject,
  kustomize,
  parseObjects,
  podSpec,
  repoRoot,
  toolsBin,
} from "./k8s-render.ts";

let tree: Awaited<ReturnType<typeof deployTree>>;
let tmp: string;
const rendered = new Map<string, K8sObject[]>();
const children: ChildProcess[] = [];

beforeAll(async () => {
  const bin = await toolsBin();
  tree = await deployTree();
  tmp = await mkdtemp(path.join(tmpdir(), "swell-k8s-config-"));
  for (const k of ["base", "overlays/dev"]) {
    rendered.set(k, parseObjects(await kustomize(bin, path.join(tree.dir, "k8s", k))));
  }
}, 60 * 60_000);
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await tree?.remove();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: rendered YAML
type Container = any;

/** The environment the kubelet would give a container of this Deployment's pods. */
function containerEnv(objs: K8sObject[], d: K8sObject, c: Container): Record<string, string> {
  const pod = {
    "metadata.name": `${d.metadata.name}-7d9f8b6c5d-x2k4q`,
    "metadata.namespace": d.metadata.namespace ?? "",
    "metadata.uid": randomUUID(),
    "status.podIP": "10.244.1.7",
  } as Record<string, string>;
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) {
      Object.assign(env, find(objs, "ConfigMap", from.configMapRef.name).data);
    } else if (from.secretRef) {
      const secret = find(objs, "Secret", from.secretRef.name);
      for (const [k, v] of Object.entries(secret.data ?? {})) {
        env[k] = Buffer.from(String(v), "base64").toString("utf8");
      }
    }
  }
  for (const e of c.env ?? []) {
    const field: string | undefined = e.valueFrom?.fieldRef?.fieldPath;
    const label = field && /^metadata\.labels\['(.+)'\]$/.exec(field)?.[1];
    if (e.value !== undefined) env[e.name] = e.value;
    else if (label) env[e.name] = d.spec.template.metadata.labels[label];
    else if (field && pod[field] !== undefined) env[e.name] = pod[field];
    else throw new Error(`${d.metadata.name}/${c.name}: no stand-in for env ${e.name}`);
  }
  return env;
}

/** Starts a program; resolves with its first JSON log line's msg, or rejects with its stderr. */
function startProgram(source: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, source)], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let out = "";
    let err = "";
    const timer = setTimeout(
      () => reject(new Error(`${source}: no log line in 20 s\n${err}`)),
      20_000,
    );
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) {
        clearTimeout(timer);
        child.kill("SIGKILL");
        resolve((JSON.parse(line) as { msg: string }).msg);
      }
    });
    child.stderr.on("data", (b: Buffer) => {
      err += b.toString();
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${source} exited ${code} before logging:\n${err}`));
    });
  });
}

const programOf = (c: Container): string =>
  (c.args as string[])
    .find((a) => /\.(js|ts)$/.test(a))
    ?.replace(/^dist\//, "")
    .replace(/\.js$/, ".ts") ?? "";

describe.each(["base", "overlays/dev"])("%s", (k) => {
  it.each([
    ["api", "api", "listening"],
    ["worker", "worker", "listening"],
    ["api", "swell-agent", "agent started"],
  ])("the %s pod's %s starts with its container's settings", async (deployment, container, msg) => {
    const objs = rendered.get(k) ?? [];
    const d = find(objs, "Deployment", deployment);
    const c = allContainers(podSpec(d)).find((x: Container) => x.name === container);
    const env = containerEnv(objs, d, c);
    // Only what cannot be the same on a shared test machine: a free port on loopback, and
    // the projected token's file (the kubelet writes it; here a stand-in).
    const tokenFile = path.join(tmp, `token-${container}`);
    await writeFile(tokenFile, "stand-in-token");
    const overrides = { HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info" };
    if (env.SWELL_TOKEN_FILE) Object.assign(overrides, { SWELL_TOKEN_FILE: tokenFile });
    await expect(startProgram(programOf(c), { ...env, ...overrides })).resolves.toBe(msg);
  });

  it("the controller's settings pass its config schema", () => {
    const objs = rendered.get(k) ?? [];
    const d = find(objs, "Deployment", "swell-controller");
    const env = containerEnv(objs, d, podSpec(d).containers[0]);
    const parsed = parseEnv(controllerEnv, env);
    expect(parsed.ok ? [] : parsed.problems).toEqual([]);
    expect(parsed.ok && parsed.value.SWELL_BACKEND).toBe("kubernetes");
  });
});

it("agents report more often than the controller forgets a silent pod", () => {
  const objs = rendered.get("base") ?? [];
  const d = find(objs, "Deployment", "worker");
  const agent = containerEnv(objs, d, podSpec(d).initContainers[0]);
  const ctl = find(objs, "Deployment", "swell-controller");
  const parsed = parseEnv(controllerEnv, containerEnv(objs, ctl, podSpec(ctl).containers[0]));
  if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
  const reportMs = parseDurationMs(agent.SWELL_REPORT_INTERVAL ?? "1s") ?? Number.NaN;
  // Two reports may be lost (or late) before the pod drops out of the aggregate.
  expect(reportMs * 2).toBeLessThan(parsed.value.SWELL_POD_TTL);
});
