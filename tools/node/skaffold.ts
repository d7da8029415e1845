// skaffold and kubectl against a cluster from a copy of the repository's deploy files: the
// programs tools/skaffold/build.sh builds, the copy, and running them. Shared by the cluster
// and node tests (through test/cluster/k8s-render.ts) and the bench's real-node phase.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

export const repoRoot = path.resolve(import.meta.dirname, "../..");

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
 * tests), then taken from its cache at once. A failed build fails the caller, naming its log.
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

export interface DeployTree {
  dir: string;
  remove: () => Promise<void>;
}

/** A copy of the repo's deploy files in a temp folder, so a run never writes into the work tree. */
export async function deployTree(): Promise<DeployTree> {
  const dir = await mkdtemp(path.join(tmpdir(), "swell-deploy-"));
  for (const entry of COPIED) {
    await mkdir(path.dirname(path.join(dir, entry)), { recursive: true });
    await cp(path.join(repoRoot, entry), path.join(dir, entry), { recursive: true });
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** What skaffold needs of the real node (tools/node): its kubeconfig, Docker and registry. */
export interface SkaffoldTarget {
  kubeconfigPath: string;
  dockerSocket: string;
  /** Put first on PATH: Debian's docker CLI. */
  pathDir: string;
  defaultRepo: string;
}

/**
 * A skaffold of the built tools, run in `tree` against the node: Debian's docker CLI first on
 * PATH (it drives the engine's BuildKit), then the built kubectl; its own HOME, no prompts.
 */
export function nodeSkaffold(
  bin: string,
  tree: string,
  home: string,
  target: SkaffoldTarget,
): (args: string[], timeoutMs: number) => Promise<RunResult> {
  return (args, timeoutMs) =>
    run(path.join(bin, "skaffold"), args, {
      cwd: tree,
      timeoutMs,
      env: toolsEnv(`${target.pathDir}${path.delimiter}${bin}`, {
        KUBECONFIG: target.kubeconfigPath,
        HOME: home,
        DOCKER_HOST: `unix://${target.dockerSocket}`,
        SKAFFOLD_UPDATE_CHECK: "false",
        SKAFFOLD_INTERACTIVE: "false",
        SKAFFOLD_COLLECT_METRICS: "false",
      }),
    });
}
