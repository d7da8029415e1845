// Brings the real node up by hand (npm run node:up, as root): builds what is not cached yet,
// starts the control plane, the node (kubelet, containerd, kube-proxy, CoreDNS), the local
// registry and the Docker engine, prints how to use them, and on Ctrl-C or SIGTERM stops
// everything and removes what it made.

import { stopOnSignal } from "../cluster/until-signal.ts";
import { startRealNode } from "./node.ts";

try {
  const node = await startRealNode({ log: (line) => console.error(line) });
  console.log(`
The real node is up (${node.nodeName}). In another shell, from the repository:

  export KUBECONFIG=${node.kubeconfigPath}
  export DOCKER_HOST=unix://${node.dockerSocket}
  export PATH=${node.pathDir}:$PATH      # Debian's docker CLI (BuildKit without buildx)
  skaffold run -p build-host-network --default-repo=${node.defaultRepo}

Logs: ${node.dir}/logs and ${node.controlPlane.dir}/logs. Ctrl-C stops everything.`);
  stopOnSignal("the node and the control plane", () => node.stop());
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
