import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One long-running program of the control plane, in its own process group. */
export interface Managed {
  name: string;
  pid: number;
  logFile: string;
  /** Exit code or signal once the process has ended; undefined while it runs. */
  exit(): string | undefined;
  /** Resolves when the process has ended. */
  ended: Promise<void>;
}

export interface Supervisor {
  start(name: string, command: string, args: string[]): Managed;
  /** Throws, naming the process and its last log lines, if any process has ended. */
  assertRunning(): void;
  /** Stops the processes in the reverse order of starting: SIGTERM, then SIGKILL after graceMs. */
  stopAll(graceMs?: number): Promise<void>;
}

// Kills the process groups it is told about (one pid per line on stdin) when its stdin closes:
// that is, when the supervisor stops, but also when the Node process dies in any way, even by
// SIGKILL, so no etcd or apiserver is ever left behind. If it had to kill anything (nobody
// stopped them in order), it also removes the folder given as $1, if any. It runs in its own
// session, so a Ctrl-C meant for the test runner does not reach it.
const guardScript = `
trap '' INT HUP
pids=()
while read -r p; do pids+=("$p"); done
alive=0
for p in "\${pids[@]}"; do kill -0 -- "-$p" 2>/dev/null && alive=1; done
[ "$alive" -eq 0 ] && exit 0
[ -n "$1" ] && trap 'rm -rf -- "$1"' EXIT
for p in "\${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
for _ in $(seq 50); do
  alive=0
  for p in "\${pids[@]}"; do kill -0 -- "-$p" 2>/dev/null && alive=1; done
  [ "$alive" -eq 0 ] && exit 0
  sleep 0.1
done
for p in "\${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
exit 0
`;

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Starts programs with their output in logDir/<name>.log, each in a process group of its own,
 * and stops them all reliably: explicitly with stopAll, on process exit, and through a guard
 * process when this process is killed (which then also removes removeWhenAbandoned).
 */
export function createSupervisor(
  logDir: string,
  opts: { removeWhenAbandoned?: string } = {},
): Supervisor {
  const started: { managed: Managed; child: ChildProcess }[] = [];
  const guard = spawn("bash", ["-c", guardScript, "guard", opts.removeWhenAbandoned ?? ""], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  guard.unref();
  // The pipe must not keep the event loop alive: closing it is the guard's signal.
  (guard.stdin as unknown as { unref?: () => void }).unref?.();
  guard.stdin?.on("error", () => {});

  const killAllNow = () => {
    for (const { managed } of started) {
      if (managed.exit() === undefined) signalGroup(managed.pid, "SIGKILL");
    }
  };
  process.on("exit", killAllNow);

  return {
    start(name, command, args) {
      const logFile = join(logDir, `${name}.log`);
      const fd = openSync(logFile, "a");
      const child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd] });
      closeSync(fd);
      let exit: string | undefined;
      const ended = new Promise<void>((resolve) => {
        child.on("exit", (code, signal) => {
          exit = signal ?? `exit code ${code}`;
          resolve();
        });
        child.on("error", (err) => {
          exit = `could not start: ${err.message}`;
          resolve();
        });
      });
      if (child.pid === undefined) {
        throw new Error(`could not start ${name} (${command})`);
      }
      guard.stdin?.write(`${child.pid}\n`);
      const managed: Managed = { name, pid: child.pid, logFile, exit: () => exit, ended };
      started.push({ managed, child });
      return managed;
    },

    assertRunning() {
      for (const { managed } of started) {
        const exit = managed.exit();
        if (exit !== undefined) {
          throw new Error(
            `${managed.name} ended (${exit}); last lines of ${managed.logFile}:\n${tail(managed.logFile)}`,
          );
        }
      }
    },

    async stopAll(graceMs = 10_000) {
      for (const { managed } of [...started].reverse()) {
        if (managed.exit() !== undefined) continue;
        signalGroup(managed.pid, "SIGTERM");
        const timer = setTimeout(() => signalGroup(managed.pid, "SIGKILL"), graceMs);
        await managed.ended;
        clearTimeout(timer);
      }
      process.off("exit", killAllNow);
      guard.stdin?.end();
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
