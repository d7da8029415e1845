import { mkdir, readdir, readFile, readlink, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { teardownNetwork } from "./network.ts";
import { shQuiet } from "./sh.ts";

/** cgroup (v1: under every controller) of the pods (kubelet cgroupRoot) and of Docker's containers. */
export const cgroupParents = ["swell-node", "swell-docker"] as const;
const cgroupRoot = "/sys/fs/cgroup";

/**
 * Removes everything a node run leaves when it did not stop in order (a crash, SIGKILL): every
 * process that names the run folder (containerd shims, daemons) or sits in our cgroups, the
 * mounts under the run folder (overlays, volumes, network namespaces), our cgroups, our
 * interfaces and nftables tables, then the folder. Also the last step of a clean stop.
 */
export async function cleanupNode(runDir: string, log: (line: string) => void): Promise<void> {
  const pids = new Set([...(await pidsNaming(runDir)), ...(await pidsInCgroups())]);
  pids.delete(process.pid);
  if (pids.size > 0) log(`node: killing ${pids.size} leftover processes`);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  if (pids.size > 0) await new Promise((resolve) => setTimeout(resolve, 500));
  for (const mount of await mountsUnder(runDir)) await shQuiet("umount", ["-l", mount]);
  await removeCgroups();
  await teardownNetwork();
  await rm(runDir, { recursive: true, force: true });
}

/**
 * The pods' cgroup's CPU weight against the machine's other processes. In cgroup v1 the whole
 * group competes with each busy process at the root as one peer: at the default 1024, on a
 * machine running others' builds (load average 15 to 20), every pod together got about one
 * process's share, a new pod took 30 s to turn Ready, the load Job sent at half its rate and
 * the controllers' liveness probes timed out. 4096: the group weighs as four busy processes
 * (about the node's 2 CPUs of requests, twice over), within it the kubelet shares by requests.
 */
export const podCgroupCpuShares = 4096;

/**
 * Makes the pods' cgroup parent under every v1 controller (the kubelet wants it to exist), with
 * cpuset's cpus and mems copied from the root (an empty cpuset takes no process) and the CPU
 * weight above.
 */
export async function createPodCgroup(): Promise<void> {
  for (const c of await readdir(cgroupRoot)) {
    const dir = join(cgroupRoot, c, cgroupParents[0]);
    await mkdir(dir, { recursive: true });
    if (c === "cpuset") {
      for (const f of ["cpuset.cpus", "cpuset.mems"]) {
        await writeFile(join(dir, f), await readFile(join(cgroupRoot, c, f), "utf8"));
      }
    }
    if (c === "cpu") await writeFile(join(dir, "cpu.shares"), String(podCgroupCpuShares));
  }
}

/**
 * Whether a process belongs to the run: an argument names the run folder or a path inside it
 * (`--data-root=/tmp/swell-node/docker`, `unix:///tmp/swell-node/...`), or its working
 * directory is there. A mere prefix is not enough: `flock /tmp/swell-node.lock npm run
 * test:node`, how every user waits for the node, names `/tmp/swell-node.lock`, and killing it
 * ended someone else's queued run.
 */
export function namesRunDir(args: readonly string[], cwd: string, runDir: string): boolean {
  const names = (s: string) =>
    s.includes(`${runDir}/`) || s.endsWith(runDir) || s.includes(`${runDir} `);
  return cwd === runDir || cwd.startsWith(`${runDir}/`) || args.some(names);
}

async function pidsNaming(runDir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0");
      const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => "");
      if (namesRunDir(args, cwd, runDir)) found.push(Number(entry));
    } catch {
      // Ended meanwhile.
    }
  }
  return found;
}

/** Every cgroup folder under our parents, in every controller, deepest first. */
async function ourCgroups(): Promise<string[]> {
  const dirs: string[] = [];
  const walk = async (dir: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name));
    dirs.push(dir);
  };
  const controllers = await readdir(cgroupRoot).catch(() => [] as string[]);
  for (const c of controllers) for (const p of cgroupParents) await walk(join(cgroupRoot, c, p));
  return dirs;
}

async function pidsInCgroups(): Promise<number[]> {
  const pids: number[] = [];
  for (const dir of await ourCgroups()) {
    const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
    for (const line of text.split("\n")) if (line) pids.push(Number(line));
  }
  return pids;
}

async function removeCgroups(): Promise<void> {
  for (const dir of await ourCgroups()) await rmdir(dir).catch(() => {});
}

/** Mount points under dir, deepest first, from this process's mount table. */
async function mountsUnder(dir: string): Promise<string[]> {
  const table = await readFile("/proc/self/mountinfo", "utf8");
  const points = table
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}
