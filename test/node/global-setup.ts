import type { TestProject } from "vitest/node";
import { startRealNode } from "../../tools/node/node.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The real node's run folder (kubelet's pod volumes under node/kubelet/pods). */
    nodeDir: string;
    /** The local registry, host:port: skaffold's --default-repo. */
    defaultRepo: string;
    /** The node's Docker engine socket. */
    dockerSocket: string;
    /** Put first on PATH: Debian's docker CLI. */
    pathDir: string;
  }
}

/**
 * Starts the real node (control plane, kubelet, containerd, Docker, registry) once for the
 * run and stops it at the end, leaving nothing behind. A start that fails fails the run with
 * the failing part's log lines: the node tests never skip.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const node = await startRealNode({ log: (line) => console.error(line) });
  console.error(`node tests: real node up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  project.provide("kubeconfig", node.kubeconfigPath);
  project.provide("externalCluster", false);
  project.provide("nodeDir", node.dir);
  project.provide("defaultRepo", node.defaultRepo);
  project.provide("dockerSocket", node.dockerSocket);
  project.provide("pathDir", node.pathDir);
  return async () => {
    await node.stop();
  };
}
