import { readFile, writeFile } from "node:fs/promises";
import { sh, shQuiet } from "./sh.ts";

/**
 * The real node's addresses, all in 198.18.0.0/16 (RFC 2544, reserved for tests; 198.19.0.0/16
 * belongs to the metrics-api tests). Nothing here routes off the machine: no masquerade, and an
 * nftables guard drops anything leaving the node's bridges for another address.
 */
export const net = {
  /**
   * The node's own address: kubelet, apiserver, kube-proxy. On an interface of its own with no
   * ports: a bridge, since this kernel has no dummy driver (`ip link add type dummy` fails).
   */
  nodeIp: "198.18.0.1",
  /** CoreDNS, also on that interface: the pods' nameserver (kubelet clusterDNS). */
  dnsIp: "198.18.0.10",
  nodeLink: "swn-node0",
  /** Pods: the CNI bridge plugin's bridge and host-local range. */
  podBridge: "swn-cni0",
  podCidr: "198.18.16.0/20",
  podGateway: "198.18.16.1",
  /** Services: the apiserver's service-cluster-ip-range; the first address is `kubernetes`. */
  serviceCidr: "198.18.64.0/20",
  serviceIp: "198.18.64.1",
  /** Docker's bridge (its builds use the host network; see docs/real-node.md). */
  dockerBridge: "swn-dk0",
  dockerBip: "198.18.8.1/24",
  /** The test range as a whole, the one destination the guard lets through. */
  testRange: "198.18.0.0/15",
  nftTable: "swn_node",
} as const;

const sysctls = {
  // Pod → Service → pod on the same bridge: the DNAT'd packet is routed back into the bridge.
  forward: "/proc/sys/net/ipv4/ip_forward",
  // Bridged pod-to-pod replies must pass conntrack, or a Service's DNAT is not undone.
  bridgeNf: "/proc/sys/net/bridge/bridge-nf-call-iptables",
} as const;

export interface NodeNetwork {
  /** Removes what setupNetwork made and puts the sysctls back. */
  teardown(): Promise<void>;
}

/** Makes the node's interface, Docker's bridge, the forward guard, and sets the sysctls. */
export async function setupNetwork(): Promise<NodeNetwork> {
  const before = {
    forward: (await readFile(sysctls.forward, "utf8")).trim(),
    bridgeNf: (await readFile(sysctls.bridgeNf, "utf8")).trim(),
  };
  await sh("ip", ["link", "add", net.nodeLink, "type", "bridge"]);
  await sh("ip", ["addr", "add", `${net.nodeIp}/32`, "dev", net.nodeLink]);
  await sh("ip", ["addr", "add", `${net.dnsIp}/32`, "dev", net.nodeLink]);
  await sh("ip", ["link", "set", net.nodeLink, "up"]);
  await sh("ip", ["link", "add", net.dockerBridge, "type", "bridge"]);
  await sh("ip", ["addr", "add", net.dockerBip, "dev", net.dockerBridge]);
  await sh("ip", ["link", "set", net.dockerBridge, "up"]);
  // Forwarding is on for the pods' Service traffic; this guard keeps anything that enters or
  // leaves our bridges from going anywhere but the test range (no route off the machine).
  const bridges = `{ "${net.podBridge}", "${net.dockerBridge}" }`;
  await sh(
    "nft",
    ["-f", "-"],
    `table inet ${net.nftTable} {
  chain forward {
    type filter hook forward priority -10; policy accept;
    iifname ${bridges} ip daddr != ${net.testRange} drop
    oifname ${bridges} ip saddr != ${net.testRange} drop
    iifname ${bridges} meta nfproto ipv6 drop
  }
}
`,
  );
  await writeFile(sysctls.forward, "1");
  await writeFile(sysctls.bridgeNf, "1");
  return {
    async teardown() {
      await teardownNetwork();
      await writeFile(sysctls.forward, before.forward).catch(() => {});
      await writeFile(sysctls.bridgeNf, before.bridgeNf).catch(() => {});
    },
  };
}

/**
 * Removes the node's interfaces, the guard and kube-proxy's nftables tables (the pods' network
 * namespaces are mounts under the run folder: see cleanup.ts). Safe to run when none of it exists (it also cleans up after a crash).
 */
export async function teardownNetwork(): Promise<void> {
  for (const link of [net.podBridge, net.dockerBridge, net.nodeLink]) {
    await shQuiet("ip", ["link", "delete", link]);
  }
  await shQuiet("nft", ["delete", "table", "inet", net.nftTable]);
  // kube-proxy's nftables mode keeps all its rules in these two tables.
  await shQuiet("nft", ["delete", "table", "ip", "kube-proxy"]);
  await shQuiet("nft", ["delete", "table", "ip6", "kube-proxy"]);
  await removeKubeletChains();
}

/**
 * The kubelet still makes a few iptables chains of its own (KUBE-FIREWALL, which drops
 * non-local traffic DNAT'd to 127.0.0.0/8, and canaries it watches for a flush); remove them,
 * and a table when nothing but empty accepting base chains is left in it.
 */
async function removeKubeletChains(): Promise<void> {
  for (const tool of ["iptables", "ip6tables"]) {
    for (const chain of ["INPUT", "OUTPUT"]) {
      await shQuiet(tool, ["-t", "filter", "-D", chain, "-j", "KUBE-FIREWALL"]);
    }
    await shQuiet(tool, ["-t", "filter", "-F", "KUBE-FIREWALL"]);
    await shQuiet(tool, ["-t", "filter", "-X", "KUBE-FIREWALL"]);
    for (const table of ["mangle", "nat", "filter"]) {
      await shQuiet(tool, ["-t", table, "-X", "KUBE-KUBELET-CANARY"]);
    }
    await shQuiet(tool, ["-t", "mangle", "-X", "KUBE-IPTABLES-HINT"]);
  }
  for (const family of ["ip", "ip6"]) {
    for (const table of ["mangle", "nat", "filter"]) {
      const listing = await sh("nft", ["list", "table", family, table]).catch(() => "");
      if (listing && onlyEmptyChains(listing)) {
        await shQuiet("nft", ["delete", "table", family, table]);
      }
    }
  }
}

/** True when an `nft list table` shows chains without a single rule, base chains accepting. */
function onlyEmptyChains(listing: string): boolean {
  return listing
    .split("\n")
    .map((line) => line.trim())
    .every(
      (line) =>
        line === "" ||
        line === "}" ||
        line.startsWith("#") ||
        line.startsWith("table ") ||
        line.startsWith("chain ") ||
        (line.startsWith("type ") && line.endsWith("policy accept;")),
    );
}
