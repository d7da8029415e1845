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
 * collected it yet), except the runner's own helpers. A process is the run's when, going up
 * its parents, it reaches the runner, or reaches a new process adopted by init that is in the
 * runner's process group or works in the clone (an orphan: its parent died without reaping it;
 * a `detached` child has a group of its own). Reaching an older process first (a shell, a
 * daemon, another test run) makes it someone else's. Under a subreaper other than init an
 * orphan is not seen.
 */
export function leftBehind(table: readonly ProcessEntry[], run: RunIdentity): ProcessEntry[] {
  const byPid = new Map(table.map((p) => [p.pid, p]));
  const isNew = (p: ProcessEntry) => !run.before.has(key(p));
  const inRoot = (cwd: string) => cwd === run.root || cwd.startsWith(`${run.root}${path.sep}`);
  const isRuns = (p: ProcessEntry): boolean => {
    for (let cur = p, hops = 0; hops < table.length; hops++) {
      if (cur.ppid === run.pid) return true;
      const parent = byPid.get(cur.ppid);
      if (cur.ppid <= 1 || !parent) return cur.pgid === run.pgid || inRoot(cur.cwd);
      if (!isNew(parent)) return false;
      cur = parent;
    }
    return false;
  };
  return table.filter(
    (p) => p.pid !== run.pid && isNew(p) && p.state !== "Z" && !isRunnerHelper(p) && isRuns(p),
  );
}

/**
 * Vitest's own helpers: its pool workers are closed after global teardown, so they are still up
 * during it, and its watchdog (titled "vitest-watchdog") outlives the runner on purpose.
 */
function isRunnerHelper(p: ProcessEntry): boolean {
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
