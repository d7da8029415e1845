// Brings the local control plane up by hand (npm run cluster:up): builds it when not cached,
// starts it, prints the admin kubeconfig, and stops everything on Ctrl-C or SIGTERM.
import { z } from "zod";
import { ensureBinaries } from "./binaries.ts";
import { startControlPlane } from "./control-plane.ts";
import { stopOnSignal } from "./until-signal.ts";

const schema = z.object({
  SWELL_CLUSTER_NODES: z.coerce.number().int().min(1).max(100).default(3),
  SWELL_CLUSTER_KEEP: z.enum(["0", "1"]).default("0"),
});

const parsed = schema.safeParse({
  SWELL_CLUSTER_NODES: process.env.SWELL_CLUSTER_NODES || undefined,
  SWELL_CLUSTER_KEEP: process.env.SWELL_CLUSTER_KEEP || undefined,
});
if (!parsed.success) {
  for (const issue of parsed.error.issues) {
    console.error(`config: ${issue.path.join(".")}: ${issue.message}`);
  }
  process.exit(2);
}
const config = parsed.data;

try {
  const binDir = await ensureBinaries();
  const cluster = await startControlPlane({
    binDir,
    nodes: config.SWELL_CLUSTER_NODES,
    keepDir: config.SWELL_CLUSTER_KEEP === "1",
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
