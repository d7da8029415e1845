import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../../tools/local/ports.ts";
import { waitFor } from "../support/wait.ts";

/** Debian's Prometheus server (`apt-get install prometheus`; .ci/run installs it). */
export const PROMETHEUS = process.env.SWELL_PROMETHEUS ?? "/usr/bin/prometheus";
const CONFIG = path.resolve(import.meta.dirname, "../../tools/local/prometheus.yml");

export interface RunningPrometheus {
  url: string;
  /** An instant query's result vector (throws on a query error). */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

/**
 * The real Prometheus server with the shipped tools/local/prometheus.yml, pointed at this
 * controller, on a free loopback port with its own data directory (removed on stop).
 */
export async function startPrometheus(controller: string): Promise<RunningPrometheus> {
  if (!existsSync(PROMETHEUS)) {
    throw new Error(
      `${PROMETHEUS} not found: this test needs the Prometheus server (apt-get install prometheus; bash .ci/run installs it), or SWELL_PROMETHEUS naming one`,
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), "swell-prometheus-"));
  const config = readFileSync(CONFIG, "utf8").replace("http://127.0.0.1:9090/", `${controller}/`);
  if (!config.includes(controller)) throw new Error(`${CONFIG} no longer names 127.0.0.1:9090`);
  writeFileSync(path.join(dir, "prometheus.yml"), config);
  const port = await freePort();
  let output = "";
  const proc: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  proc.stdout?.on("data", (b) => (output += b));
  proc.stderr?.on("data", (b) => (output += b));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    "prometheus ready",
    async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited ${proc.exitCode}`);
      return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok;
    },
    { timeoutMs: 30_000, everyMs: 200, context: () => output },
  );
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data: {
          resultType: string;
          result: { metric: Record<string, string>; value: [number, string] }[];
        };
      };
      if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
      return body.data.result;
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((resolve) => proc.once("exit", resolve));
        proc.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
