import { type ChildProcess, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** Linux reports CPU time in clock ticks; 100 per second on every common kernel config. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Seconds of CPU (user + system) the process has used so far, from /proc/<pid>/stat. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; the fields after its closing paren are fixed.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Resident memory in MiB, from /proc/<pid>/status: all of it (VmRSS, what `ps` and `top` show)
 * and the private part (RssAnon: heap and stacks, not the pages of the node binary and other
 * files, which every Node process on the machine shares).
 */
export async function memoryMb(pid: number): Promise<{ rss: number; anon: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status)?.[1]);
  return { rss: kb("VmRSS") / 1024, anon: kb("RssAnon") / 1024 };
}

export interface Program {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** The last lines the program wrote to stderr, for error messages. */
  stderrTail(): string;
  stop(): Promise<void>;
}

/**
 * Starts a TypeScript entry with this Node (which strips types itself), as the local stack
 * runs replicas. Stdout (the JSON logs) goes to /dev/null: the program still formats and
 * writes every line, but no disk or pipe reader is measured along with it.
 */
export function startProgram(
  name: string,
  entry: string,
  env: Record<string, string>,
  options: {
    stdout?: "null" | "pipe";
    /** How to stop it: SIGKILL (default), or SIGTERM for a program that must drain children. */
    signal?: "SIGKILL" | "SIGTERM";
    /** Flags for node itself, before the entry. */
    nodeFlags?: readonly string[];
  } = {},
): Program {
  const devNull = openSync("/dev/null", "w");
  const proc = spawn(process.execPath, [...(options.nodeFlags ?? []), entry], {
    env: { ...process.env, ...env },
    stdio: ["ignore", options.stdout === "pipe" ? "pipe" : devNull, "pipe"],
  });
  let tail = "";
  proc.stderr?.on("data", (b: Buffer) => {
    tail = (tail + b.toString()).slice(-4000);
  });
  // Without a listener a failed spawn would crash the whole bench instead of failing its phase.
  let spawnError: Error | undefined;
  proc.on("error", (err) => {
    spawnError = err;
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${entry}`);
  const pid = proc.pid;
  return {
    name,
    proc,
    pid,
    stderrTail: () => (spawnError ? `${spawnError.message}\n${tail}` : tail),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      proc.kill("SIGCONT");
      if (options.signal === "SIGTERM") {
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
        await exited;
        clearTimeout(timer);
        return;
      }
      proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** Waits until `url` answers 200, or throws naming the program (and its stderr) on timeout. */
export async function waitHealthy(
  program: Program,
  url: string,
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const { exitCode, signalCode } = program.proc;
    if (exitCode !== null || signalCode !== null) {
      throw new Error(
        `${program.name} ${signalCode ? `killed by ${signalCode}` : `exited with ${exitCode}`} before it was healthy:\n${program.stderrTail()}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(
    `${program.name} not healthy at ${url} after ${timeoutMs} ms:\n${program.stderrTail()}`,
  );
}
