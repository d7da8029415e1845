/**
 * Runs a sample service (services/<name>/main.ts) as a real process for the integration tests:
 * Node with the tsx loader, on 127.0.0.1 and a port the OS picks (PORT=0), so tests never
 * collide. Collects the JSON log lines from stdout and stderr's text.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../../..");

export type LogLine = Record<string, unknown> & { msg?: string };

export interface ServiceProcess {
  proc: ChildProcess;
  url: string;
  lines: LogLine[];
  stderr: () => string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  stop(): Promise<void>;
}

/** Spawns the service and resolves once it logged "listening" (with its URL). */
export function startService(
  name: "api" | "worker",
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  return startProgram(name, `services/${name}/main.ts`, "listening", env);
}

/** The controller (memory backend unless env says otherwise), once it logged its URL. */
export function startController(env: Record<string, string> = {}): Promise<ServiceProcess> {
  return startProgram("controller", "sidecar/controller/main.ts", "controller listening", env);
}

async function startProgram(
  name: string,
  entry: string,
  listeningMsg: string,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const proc = spawnEntry(entry, { HOST: "127.0.0.1", PORT: "0", SHUTDOWN_DELAY: "0", ...env });
  const lines: LogLine[] = [];
  let stderr = "";
  const waiters = new Set<() => void>();
  let buffered = "";
  proc.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        lines.push(JSON.parse(text));
      } catch {
        lines.push({ msg: "(not JSON)", text });
      }
      nl = buffered.indexOf("\n");
    }
    for (const w of waiters) w();
  });
  proc.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(proc, "exit").then(([code, signal]) => (code ?? signal) as number | string);
  void exited.then(() => {
    for (const w of waiters) w();
  });

  const waitForLine = (match: (line: LogLine) => boolean, timeoutMs = 15_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (found) {
          cleanup();
          resolve(found);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          cleanup();
          reject(
            new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}); stderr: ${stderr}`),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${name}: no matching log line in ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGKILL");
      await exited;
    }
  };
  // A start that fails (no "listening" line in time) still reaps the process: the caller never
  // gets a handle to stop it, and an orphan would outlive the run.
  const listening = await waitForLine((l) => l.msg === listeningMsg, 30_000).catch(
    async (err: unknown) => {
      await stop();
      throw err;
    },
  );
  return {
    proc,
    url: String(listening.url),
    lines,
    stderr: () => stderr,
    exited,
    waitForLine,
    stop,
  };
}

/** The bare process, for tests about start-up (config errors). */
export function spawnService(name: "api" | "worker", env: Record<string, string>): ChildProcess {
  return spawnEntry(`services/${name}/main.ts`, env);
}

function spawnEntry(entry: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** `promtool check metrics` on an exposition; its complaints, or "" when it has none. */
export function promtoolCheck(exposition: string): { status: number | null; output: string } {
  const result = spawnSync("promtool", ["check", "metrics"], {
    input: exposition,
    encoding: "utf8",
  });
  if (result.error) {
    throw new Error(
      `promtool is needed for this test (apt-get install prometheus): ${result.error.message}`,
    );
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** The value of one sample line (`name{labels}`) in an exposition, or undefined. */
export function sample(exposition: string, series: string): number | undefined {
  for (const line of exposition.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

export async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

export type Json = Record<string, unknown>;

/** A response's JSON body, as a plain record. */
export function json(res: Response): Promise<Json> {
  return res.json() as Promise<Json>;
}
