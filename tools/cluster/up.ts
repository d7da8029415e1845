// Brings the local control plane up by hand (npm run cluster:up): builds it when not cached,
// starts it, prints the admin kubeconfig, and stops everything on Ctrl-C or SIGTERM.
import { z } from "zod";
import { envVars, loadConfig } from "../../services/kit/config.ts";
import { ensureBinaries } from "./binaries.ts";
import { startControlPlane } from "./control-plane.ts";
import { stopOnSignal } from "./until-signal.ts";

const config = loadConfig(
  z.object({
    SWELL_CLUSTER_NODES: envVars.positiveInt(100).default(3),
    SWELL_CLUSTER_KEEP: envVars.boolean().default(false),
  }),
);

try {
  const binDir = await ensureBinaries();
  const cluster = await startControlPlane({
    binDir,
    nodes: config.SWELL_CLUSTER_NODES,
    keepDir: config.SWELL_CLUSTER_KEEP,
    log: (line) => console.error(line),
  });
  console.log(`
The control plane is up (${cluster.nodeNames.length} kwok nodes). In another shell:

  export KUBECONFIG=${cluster.kubeconfigPath}
  kubectl get nodes     # if you have kubectl

Run the cluster tests against it:

  SWELL_TEST_KUBECONFIG=${cluster.kubeconfigPath} npm run test:cluster

Logs: ${cluster.dir}/logs. Ctrl-C stops everything.`);
  stopOnSignal("the control plane", () => cluster.stop());
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
