// Helpers for the real-node tests that drive skaffold (skaffold-dev.test.ts, node-stats.test.ts):
// skaffold and kubectl with the node's Docker engine and kubeconfig, run to their end or kept
// running (skaffold dev, kubectl port-forward), and a namespace emptied of what an earlier file
// deployed.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { inject } from "vitest";
import { type RunResult, run, toolsEnv } from "../cluster/k8s-render.ts";
import { apiStatus, kubeconfigPath, waitFor } from "../cluster/kube.ts";

export const NS = "swell";

/** skaffold's environment on the real node: Debian's docker CLI first, then the built kubectl. */
export function skaffoldEnv(bin: string, home: string): NodeJS.ProcessEnv {
  return toolsEnv(`${inject("pathDir")}${path.delimiter}${bin}`, {
    KUBECONFIG: kubeconfigPath(),
    HOME: home,
    DOCKER_HOST: `unix://${inject("dockerSocket")}`,
    SKAFFOLD_UPDATE_CHECK: "false",
    SKAFFOLD_INTERACTIVE: "false",
    SKAFFOLD_COLLECT_METRICS: "false",
  });
}

export function skaffold(
  o: { bin: string; home: string; dir: string },
  args: string[],
  timeoutMs: number,
): Promise<RunResult> {
  return run(path.join(o.bin, "skaffold"), args, {
    cwd: o.dir,
    timeoutMs,
    env: skaffoldEnv(o.bin, o.home),
  });
}

export const output = (r: RunResult) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`.slice(-8000);

/** A program kept running, its output collected; `waitForOutput` waits for a line matching. */
export interface Running {
  child: ChildProcess;
  text(): string;
  /** When the output first reached `offset` characters (ms since the epoch), if it has. */
  timeAt(offset: number): number | undefined;
  waitForOutput(re: RegExp, timeoutMs: number, from?: number): Promise<RegExpExecArray>;
  /** Sends the signal and waits for the exit (SIGKILL after `graceMs`); the exit code. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<number | null>;
}

export function startRunning(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(file, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  // Each chunk's end offset and arrival time, for timing what the program printed.
  const arrivals: { end: number; at: number }[] = [];
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString("utf8");
    arrivals.push({ end: text.length, at: Date.now() });
    for (const w of waiters) w();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
    for (const w of waiters) w();
  });
  const running: Running = {
    child,
    text: () => text,
    timeAt: (offset) => arrivals.find((a) => a.end > offset)?.at,
    waitForOutput(re, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(text.slice(from));
          if (m) {
            done();
            resolve(m);
          } else if (exitCode !== undefined) {
            done();
            reject(new Error(`${file} exited (${exitCode}) before ${re}:\n${text.slice(-6000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} from ${file} in ${timeoutMs} ms:\n${text.slice(-6000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal, graceMs) {
      if (exitCode !== undefined) return exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return running;
}

export async function podsOf(core: CoreV1Api, app: string): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({
    namespace: NS,
    labelSelector: `app.kubernetes.io/name=${app}`,
  });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

export const isReady = (p: V1Pod) =>
  p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/**
 * Deletes the namespace's Deployments and Jobs (what an earlier test file left running) and
 * waits until their pods are gone, so a file starts on an empty node.
 */
export async function emptyNamespace(kc: KubeConfig, bin: string): Promise<void> {
  const r = await run(path.join(bin, "kubectl"), [
    `--kubeconfig=${kubeconfigPath()}`,
    "-n",
    NS,
    "delete",
    "deployments,jobs,horizontalpodautoscalers",
    "--all",
    "--ignore-not-found",
    "--wait=false",
  ]);
  if (r.code !== 0 && !/namespaces? "swell" not found/.test(r.stderr)) {
    throw new Error(`kubectl delete failed: ${r.stderr}`);
  }
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    `no pods left in ${NS}, the namespace not terminating`,
    async () => {
      const pods = await core.listNamespacedPod({ namespace: NS });
      const ns = await core.readNamespace({ name: NS }).catch(() => undefined);
      return pods.items.length === 0 && ns?.status?.phase !== "Terminating";
    },
    180_000,
  );
}

/** The namespace's Deployments, by name. */
export async function deploymentNames(kc: KubeConfig): Promise<string[]> {
  const list = await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: NS });
  return list.items.map((d) => d.metadata?.name ?? "").sort();
}

/** Waits until the namespace is deleted (404), e.g. after `skaffold delete` or dev's cleanup. */
export async function waitNamespaceGone(kc: KubeConfig, timeoutMs = 180_000): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    `namespace ${NS} gone`,
    async () => {
      try {
        await core.readNamespace({ name: NS });
        return false;
      } catch (err) {
        if (apiStatus(err) === 404) return true;
        throw err;
      }
    },
    timeoutMs,
  );
}
