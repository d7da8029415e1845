// Helpers for the tests of k8s/, Dockerfile and skaffold.yaml (k8s-*.test.ts, skaffold-*.test.ts):
// the skaffold and kubectl that tools/skaffold/build.sh builds, a copy of the repo's deploy
// files to run them on, and the rendered objects.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";

export const repoRoot = path.resolve(import.meta.dirname, "../..");

/** The overlays under k8s/overlays, each rendered and checked. */
export const OVERLAYS = ["dev", "load", "hpa", "hpa-load", "hpa-cpu"] as const;
/** The kustomizations the tests render: the base and every overlay. */
export const KUSTOMIZATIONS = ["base", ...OVERLAYS.map((o) => `overlays/${o}`)] as const;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; never throws for a non-zero exit (the result says). */
export function run(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 110_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") {
          reject(new Error(`${file} ${args.join(" ")}: ${err.message}\n${stderr}`));
          return;
        }
        resolve({ code: typeof err?.code === "number" ? err.code : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

let binDir: Promise<string> | undefined;

/**
 * The folder with skaffold and kubectl (of the control plane's version): built by
 * tools/skaffold/build.sh on the first run (minutes; `npm run test:cluster` does it before the
 * tests), then taken from its cache at once. A failed build fails the test, naming its log.
 */
export function toolsBin(): Promise<string> {
  binDir ??= run("bash", [path.join(repoRoot, "tools/skaffold/build.sh")], {
    timeoutMs: 60 * 60_000,
  }).then((r) => {
    const dir = r.stdout.trim().split("\n").at(-1) ?? "";
    if (r.code !== 0 || !dir) {
      throw new Error(`tools/skaffold/build.sh failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
    }
    return dir;
  });
  return binDir;
}

/** An environment whose PATH finds the built kubectl first (skaffold runs `kubectl`). */
export function toolsEnv(bin: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`, ...extra };
}

// What skaffold and docker need of the repo: the deploy files and the build context.
const COPIED = [
  "k8s",
  "skaffold.yaml",
  "Dockerfile",
  ".dockerignore",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "services",
  "sidecar",
  "tools",
];

/** A copy of the repo's deploy files in a temp folder, so the tests never write into the work tree. */
export async function deployTree(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "swell-deploy-"));
  for (const entry of COPIED) {
    await mkdir(path.dirname(path.join(dir, entry)), { recursive: true });
    await cp(path.join(repoRoot, entry), path.join(dir, entry), { recursive: true });
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A rendered Kubernetes object, loosely typed: the tests read what they check. */
// biome-ignore lint/suspicious/noExplicitAny: rendered YAML of any kind
export type K8sObject = Record<string, any> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

/** The objects of a multi-document YAML stream (empty documents skipped). */
export function parseObjects(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`bad YAML: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value) out.push(value);
  }
  return out;
}

/** `kubectl kustomize` (kustomize built into the built kubectl) of one kustomization folder. */
export async function kustomize(bin: string, dir: string): Promise<string> {
  const r = await run(path.join(bin, "kubectl"), ["kustomize", dir]);
  if (r.code !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return r.stdout;
}

/** The pod template's spec of a workload (Deployment or Job). */
// biome-ignore lint/suspicious/noExplicitAny: rendered YAML
export function podSpec(o: K8sObject): any {
  return o.spec?.template?.spec;
}

/** Every container of a pod spec, native sidecars (initContainers) included. */
// biome-ignore lint/suspicious/noExplicitAny: rendered YAML
export function allContainers(spec: any): any[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} among ${objects.map(label).join(", ")}`);
  return o;
}

export const label = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
