import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runLoad } from "../../tools/load/run.ts";
import { freePort } from "../../tools/local/ports.ts";
import { waitFor } from "../support/wait.ts";

/** `npm start` (tools/local/main.ts) as a real process on free loopback ports. */
export interface LocalStack {
  proc: ChildProcess;
  controller: string;
  api: string;
  worker: string;
  logDir: string;
  /** Everything the stack printed so far (stdout and stderr). */
  output(): string;
  /** Waits for `probe` to return a value; on timeout throws with the stack's output. */
  until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T>;
  /** SIGINT (a graceful drain), then SIGKILL if it is still up after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

export async function startLocalStack(env: Record<string, string> = {}): Promise<LocalStack> {
  const [cp, ap, wp] = await Promise.all([freePort(), freePort(), freePort()]);
  const logDir = mkdtempSync(path.join(tmpdir(), "swell-e2e-"));
  let output = "";
  const proc = spawn(process.execPath, ["tools/local/main.ts"], {
    env: {
      ...process.env,
      CONTROLLER_PORT: String(cp),
      API_PORT: String(ap),
      WORKER_PORT: String(wp),
      SWELL_LOG_DIR: logDir,
      SWELL_TOKEN: "e2e-token",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout?.on("data", (b) => (output += b));
  proc.stderr?.on("data", (b) => (output += b));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (c) => resolve(c)));
  const until = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) =>
    waitFor(what, probe, {
      timeoutMs,
      everyMs: 100,
      context: () => `--- stack output ---\n${output}`,
    });
  return {
    proc,
    controller: `http://127.0.0.1:${cp}`,
    api: `http://127.0.0.1:${ap}`,
    worker: `http://127.0.0.1:${wp}`,
    logDir,
    output: () => output,
    until,
    async stop(graceMs = 30_000) {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill("SIGINT");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface WorkloadView {
  currentReplicas: number | null;
  readyReplicas: number | null;
  desiredReplicas: number | null;
}

export async function workloadView(controller: string, name: string): Promise<WorkloadView> {
  const res = await fetch(`${controller}/v1/workloads/default/${name}`, {
    signal: AbortSignal.timeout(1000),
  });
  return (await res.json()) as WorkloadView;
}

/**
 * The spike the e2e tests send: 100 jobs/s of 200 ms for 8 s at the worker, open loop. One
 * replica serves 20/s (4 slots), so the worker must grow to about 5.
 */
export function workerSpike(worker: string) {
  return runLoad({
    target: new URL("/jobs", worker),
    method: "POST",
    body: JSON.stringify({ costMs: 200 }),
    profile: "constant",
    rps: 100,
    durationS: 8,
    timeoutMs: 20_000,
    maxInFlight: 5000,
    signal: new AbortController().signal,
  });
}
