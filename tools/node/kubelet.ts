import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeKubeconfig } from "../cluster/kubeconfig.ts";
import type { Pki } from "../cluster/pki.ts";
import type { Supervisor } from "../cluster/processes.ts";
import { cgroupParents } from "./cleanup.ts";
import { net } from "./network.ts";

export const nodeName = "swn-node";

export interface NodeAgentsOptions {
  binDir: string;
  dir: string;
  server: string;
  pki: Pki;
  adminKubeconfig: string;
  containerdSocket: string;
  ports: { kubelet: number; kubeletHealthz: number; proxyHealthz: number; proxyMetrics: number };
}

/**
 * The node's own programs: the kubelet (signed in as system:node:swn-node, so the Node
 * authorizer and NodeRestriction apply), kube-proxy (nftables mode) and CoreDNS as a process
 * of the node on the DNS address, serving cluster.local from the API.
 */
export async function startNodeAgents(supervisor: Supervisor, o: NodeAgentsOptions): Promise<void> {
  const bin = (name: string) => join(o.binDir, name);
  const kubeletDir = join(o.dir, "kubelet");
  await mkdir(kubeletDir, { recursive: true });
  const nodeKubeconfig = join(o.dir, "node.kubeconfig");
  if (!o.pki.nodeCert || !o.pki.nodeKey)
    throw new Error("the control plane made no node certificate");
  await writeKubeconfig(nodeKubeconfig, {
    server: o.server,
    caFile: o.pki.caCert,
    user: { clientCertFile: o.pki.nodeCert, clientKeyFile: o.pki.nodeKey },
  });
  // Pods get cluster DNS only: no search domain or nameserver of this machine leaks in.
  const resolvConf = join(o.dir, "resolv.conf");
  await writeFile(resolvConf, "");
  const kubeletConfig = join(o.dir, "kubelet.yaml");
  await writeFile(
    kubeletConfig,
    JSON.stringify({
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      // This kernel has cgroup v1, which kubelet 1.35+ refuses unless told.
      failCgroupV1: false,
      cgroupDriver: "cgroupfs",
      cgroupRoot: `/${cgroupParents[0]}`,
      containerRuntimeEndpoint: `unix://${o.containerdSocket}`,
      address: net.nodeIp,
      port: o.ports.kubelet,
      readOnlyPort: 0,
      healthzBindAddress: "127.0.0.1",
      healthzPort: o.ports.kubeletHealthz,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: o.pki.caCert },
      },
      authorization: { mode: "Webhook" },
      clusterDomain: "cluster.local",
      clusterDNS: [net.dnsIp],
      resolvConf,
      podLogsDir: join(o.dir, "pod-logs"),
      failSwapOn: false,
      serializeImagePulls: false,
      // A shared disk: the other tests' files must not make the kubelet evict our pods.
      evictionHard: {
        "memory.available": "100Mi",
        "nodefs.available": "1%",
        "imagefs.available": "1%",
      },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      maxPods: 60,
      // Quick status updates: tests wait on Ready conditions.
      nodeStatusUpdateFrequency: "4s",
      syncFrequency: "10s",
    }),
  );
  supervisor.start("kubelet", bin("kubelet"), [
    `--config=${kubeletConfig}`,
    `--kubeconfig=${nodeKubeconfig}`,
    `--root-dir=${kubeletDir}`,
    `--cert-dir=${join(kubeletDir, "pki")}`,
    `--hostname-override=${nodeName}`,
    `--node-ip=${net.nodeIp}`,
    "--v=1",
  ]);

  const proxyConfig = join(o.dir, "kube-proxy.yaml");
  await writeFile(
    proxyConfig,
    JSON.stringify({
      apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
      kind: "KubeProxyConfiguration",
      mode: "nftables",
      clientConnection: { kubeconfig: o.adminKubeconfig },
      hostnameOverride: nodeName,
      bindAddress: net.nodeIp,
      healthzBindAddress: `127.0.0.1:${o.ports.proxyHealthz}`,
      metricsBindAddress: `127.0.0.1:${o.ports.proxyMetrics}`,
      clusterCIDR: net.podCidr,
      nodePortAddresses: [`${net.nodeIp}/32`],
      // Leave this machine's conntrack sysctls alone.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
    }),
  );
  supervisor.start("kube-proxy", bin("kube-proxy"), [`--config=${proxyConfig}`]);

  const corefile = join(o.dir, "Corefile");
  await writeFile(
    corefile,
    `.:53 {
    bind ${net.dnsIp}
    errors
    kubernetes cluster.local in-addr.arpa {
        kubeconfig ${o.adminKubeconfig}
        pods insecure
        fallthrough in-addr.arpa
    }
    cache 5
}
`,
  );
  supervisor.start("coredns", bin("coredns"), ["-conf", corefile]);
}
