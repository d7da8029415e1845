// Brings the real node up by hand (npm run node:up, as root): builds what is not cached yet,
// starts the control plane, the node (kubelet, containerd, kube-proxy, CoreDNS), the local
// registry and the Docker engine, prints how to use them, and on Ctrl-C or SIGTERM stops
// everything and removes what it made.
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
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping the node and the control plane`);
    await node.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  setInterval(() => {}, 1 << 30);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
