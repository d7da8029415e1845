import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Supervisor } from "../cluster/processes.ts";
import { cgroupParents } from "./cleanup.ts";
import { net } from "./network.ts";

/** Debian's containerd (1.6) with its CRI plugin, runc and the CNI plugins, for the kubelet. */
export async function startContainerd(
  supervisor: Supervisor,
  dir: string,
  opts: { registry: string; sandboxImage: string },
): Promise<string> {
  const socket = join(dir, "containerd.sock");
  const netd = join(dir, "net.d");
  const certsd = join(dir, "certs.d");
  await mkdir(netd, { recursive: true });
  await mkdir(join(certsd, opts.registry), { recursive: true });
  // The local registry speaks plain HTTP on loopback (as kind's local registry does).
  await writeFile(
    join(certsd, opts.registry, "hosts.toml"),
    `server = "http://${opts.registry}"\n[host."http://${opts.registry}"]\n  capabilities = ["pull", "resolve"]\n`,
  );
  await writeFile(
    join(netd, "10-swell.conflist"),
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "swell",
      plugins: [
        {
          type: "bridge",
          bridge: net.podBridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            dataDir: join(dir, "cni-ipam"),
            ranges: [[{ subnet: net.podCidr, gateway: net.podGateway }]],
            routes: [{ dst: "0.0.0.0/0" }],
          },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    }),
  );
  const config = join(dir, "config.toml");
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  await writeFile(
    config,
    `version = 2
root = "${join(dir, "root")}"
state = "${join(dir, "state")}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[debug]
  address = "${socket}.debug"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, "opt")}"
[${cri}]
  sandbox_image = "${opts.sandboxImage}"
  stream_server_address = "127.0.0.1"
  netns_mounts_under_state_dir = true
  # This machine does not let a process lower its oom_score_adj (no CAP_SYS_RESOURCE): runc
  # would fail to set the kubelet's -998 for a sandbox. Clamp to what containerd itself has.
  restrict_oom_score_adj = true
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
  [${cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${netd}"
    max_conf_num = 1
  [${cri}.registry]
    config_path = "${certsd}"
`,
  );
  supervisor.start("containerd", "containerd", ["--config", config]);
  return socket;
}

/**
 * Debian's Docker engine, with everything of its own under dir: data, exec root, pid file and
 * socket. No iptables rules, no masquerade; its bridge is ours (network.ts). Builds reach the
 * npm registry through the host network (skaffold.yaml's `network: host`, docs/real-node.md).
 */
export async function startDockerd(supervisor: Supervisor, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const socket = join(dir, "docker.sock");
  const config = join(dir, "daemon.json");
  await writeFile(config, "{}\n");
  supervisor.start("dockerd", "dockerd", [
    `--config-file=${config}`,
    `--data-root=${join(dir, "data")}`,
    `--exec-root=${join(dir, "exec")}`,
    `--pidfile=${join(dir, "dockerd.pid")}`,
    `--host=unix://${socket}`,
    `--bridge=${net.dockerBridge}`,
    `--cgroup-parent=/${cgroupParents[1]}`,
    "--iptables=false",
    "--ip6tables=false",
    "--ip-masq=false",
    "--ip-forward=false",
    "--userland-proxy=false",
    "--storage-driver=overlay2",
  ]);
  return socket;
}

/** Debian's docker-registry (the CNCF distribution) on 127.0.0.1:port, storage under dir. */
export async function startRegistry(
  supervisor: Supervisor,
  dir: string,
  port: number,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const config = join(dir, "config.yml");
  await writeFile(
    config,
    `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, "data")}
http:
  addr: 127.0.0.1:${port}
`,
  );
  supervisor.start("registry", "docker-registry", ["serve", config]);
  return `127.0.0.1:${port}`;
}
