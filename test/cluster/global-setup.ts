import type { TestProject } from "vitest/node";
import { ensureBinaries } from "../../tools/cluster/binaries.ts";
import { startControlPlane } from "../../tools/cluster/control-plane.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin kubeconfig of the cluster under test. */
    kubeconfig: string;
    /** True when the tests run against SWELL_TEST_KUBECONFIG rather than a local control plane. */
    externalCluster: boolean;
  }
}

/**
 * Starts one local control plane for the whole run (or takes SWELL_TEST_KUBECONFIG), hands
 * its kubeconfig to the tests, and stops it at the end. A start that fails fails the run with
 * the failing component's log lines: the cluster tests never skip.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.SWELL_TEST_KUBECONFIG;
  if (external) {
    console.error(`cluster tests: against the cluster of SWELL_TEST_KUBECONFIG=${external}`);
    project.provide("kubeconfig", external);
    project.provide("externalCluster", true);
    return async () => {};
  }
  const binDir = await ensureBinaries();
  const started = Date.now();
  const cluster = await startControlPlane({
    binDir,
    keepDir: process.env.SWELL_CLUSTER_KEEP === "1",
    log: (line) => console.error(line),
  });
  console.error(
    `cluster tests: control plane up in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
  project.provide("kubeconfig", cluster.kubeconfigPath);
  project.provide("externalCluster", false);
  return async () => {
    await cluster.stop();
  };
}
