/**
 * Which processes a test run left behind: the pure rule, over a snapshot of the process table
 * (read from /proc by `readProcesses`), so the rule is tested without spawning anything.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";

export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** One letter, as in ps: R running, S sleeping, Z exited but not yet reaped, … */
  state: string;
  /** Process group: inherited by every child not spawned `detached`, kept when orphaned. */
  pgid: number;
  /** Start time in clock ticks since boot; with pid, tells a reused pid from the same process. */
  start: number;
  /** Working directory, or "" when it cannot be read. */
  cwd: string;
  args: string;
}

export interface RunIdentity {
  /** The test runner's own process. */
  pid: number;
  pgid: number;
  /** The clone under test. */
  root: string;
  /** Processes that were alive when the run began (`key` of each): never the run's. */
  before: ReadonlySet<string>;
}

export const key = (p: Pick<ProcessEntry, "pid" | "start">): string => `${p.pid}@${p.start}`;

/**
 * Processes the run started that are still alive (a zombie has exited: its parent only has not
 * collected it yet), except the runner's own workers: any new
 * process in the runner's process group, and any new orphan (adopted by init) working in the
 * clone, which catches a `detached` child whose parent died. Other people's processes on the
 * machine are in other groups and other directories.
 */
export function leftBehind(table: readonly ProcessEntry[], run: RunIdentity): ProcessEntry[] {
  const inRoot = (cwd: string) => cwd === run.root || cwd.startsWith(`${run.root}${path.sep}`);
  return table.filter(
    (p) =>
      p.pid !== run.pid &&
      p.state !== "Z" &&
      !run.before.has(key(p)) &&
      !isRunnerWorker(p) &&
      (p.pgid === run.pgid || (p.ppid === 1 && inRoot(p.cwd))),
  );
}

/**
 * Vitest's own helpers: its pool workers are closed after global teardown, so they are still up
 * during it, and its watchdog (titled "vitest-watchdog") outlives the runner on purpose.
 */
function isRunnerWorker(p: ProcessEntry): boolean {
  return /^vitest-|node_modules\/vitest\/dist\//.test(p.args);
}

/** The process table from /proc (Linux); processes that vanish while it is read are skipped. */
export function readProcesses(): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const args = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ").trim();
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${name}/cwd`);
      } catch {
        // Another user's process: its directory is not ours to read.
      }
      out.push({
        pid: Number(name),
        state: fields[0] ?? "",
        ppid: Number(fields[1]),
        pgid: Number(fields[2]),
        start: Number(fields[19]),
        cwd,
        args,
      });
    } catch {
      // Gone between readdir and read.
    }
  }
  return out;
}

/** This process's own entry. */
export function self(table: readonly ProcessEntry[]): ProcessEntry {
  const me = table.find((p) => p.pid === process.pid);
  if (!me) throw new Error(`process ${process.pid} is not in /proc`);
  return me;
}
