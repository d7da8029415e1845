/**
 * Global setup of every test config: at the end of the run, any process a test started and did
 * not reap fails the run, named, and is killed so it does not outlive the run. Without it an
 * orphaned service goes unnoticed (it keeps a port and CPU on a shared machine).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { key, leftBehind, type ProcessEntry, readProcesses, self } from "./processes.ts";

/** A process killed in a test's last afterAll may take a moment to be gone from /proc. */
const SETTLE_MS = 5000;

export default function setup(): () => Promise<void> {
  return leftoverGuard(SETTLE_MS);
}

/** Notes what runs now; the returned teardown throws if the run left something running. */
export function leftoverGuard(settleMs: number): () => Promise<void> {
  const table = readProcesses();
  const me = self(table);
  const run = {
    pid: me.pid,
    pgid: me.pgid,
    root: process.cwd(),
    before: new Set(table.map(key)),
  };
  return async () => {
    let left: ProcessEntry[] = [];
    for (const deadline = Date.now() + settleMs; ; await sleep(200)) {
      left = leftBehind(readProcesses(), run);
      if (left.length === 0 || Date.now() > deadline) break;
    }
    if (left.length === 0) return;
    for (const p of left) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    const lines = left.map((p) => `  pid ${p.pid} (parent ${p.ppid}, in ${p.cwd}): ${p.args}`);
    throw new Error(
      `${left.length} process(es) started by the tests were still running at the end (now killed); a test must stop what it spawns, also when it fails:\n${lines.join("\n")}`,
    );
  };
}
