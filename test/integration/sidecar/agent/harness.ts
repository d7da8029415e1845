/**
 * Real parts for the agent's integration tests: the agent as a process, a tiny HTTP receiver
 * standing in for the controller's report endpoint (it records what arrives), and an
 * open-loop job sender. Everything on 127.0.0.1 with ports the OS picks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { waitFor } from "../../../support/wait.ts";

const ROOT = path.resolve(import.meta.dirname, "../../../..");

export type LogLine = Record<string, unknown> & { msg?: string };

export { waitFor };

export interface AgentProcess {
  proc: ChildProcess;
  lines: LogLine[];
  output: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** The agent's own HTTP endpoint, once it logged "agent started". */
  url: () => Promise<string>;
  stop(): Promise<void>;
}

export function spawnAgent(env: Record<string, string>): AgentProcess {
  const proc = spawn(process.execPath, ["--import", "tsx", "sidecar/agent/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      SWELL_POD_NAME: "worker-test-1",
      SWELL_POD_UID: "uid-test-1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  let text = "";
  let buffered = "";
  proc.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
    buffered += chunk;
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        lines.push(JSON.parse(line));
      } catch {
        lines.push({ msg: "(not JSON)", line });
      }
    }
  });
  proc.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
  });
  const exited = once(proc, "exit").then(
    ([code, signal]) => ({ code, signal }) as { code: number | null; signal: string | null },
  );
  return {
    proc,
    lines,
    output: () => text,
    exited,
    url: () =>
      waitFor(
        "the agent to start",
        () => {
          if (proc.exitCode !== null) throw new Error(`agent exited ${proc.exitCode}: ${text}`);
          const started = lines.find((l) => l.msg === "agent started");
          return started ? String(started.url) : undefined;
        },
        30_000,
      ),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGKILL");
        await exited;
      }
    },
  };
}

export interface Received {
  /** The parsed JSON body, as sent. */
  body: Record<string, unknown> & {
    seq: number;
    app: string;
    leaving?: boolean;
    window: { start: number; end: number };
    signals: Record<string, number | undefined>;
  };
  authorization: string | undefined;
  /** Receiver clock when it arrived, ms. */
  at: number;
}

/** A stand-in for the controller's POST /v1/reports that records every report it is sent. */
export class ReportReceiver {
  readonly reports: Received[] = [];
  /** Status answered; 202 like the controller. */
  status = 202;
  port = 0;
  #server: http.Server | undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const server = http.createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8").on("data", (c: string) => {
        body += c;
      });
      req.on("end", () => {
        // A request parsed just before down() must not count as received after it.
        if (this.#server !== server) {
          req.socket.destroy();
          return;
        }
        if (req.method === "POST" && req.url === "/v1/reports") {
          try {
            this.reports.push({
              body: JSON.parse(body),
              authorization: req.headers.authorization,
              at: Date.now(),
            });
          } catch {}
        }
        res.writeHead(this.status, { "content-type": "application/json" }).end('{"accepted":true}');
      });
    });
    server.listen(this.port, "127.0.0.1");
    await once(server, "listening");
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening: connections are refused, as when the controller is down. */
  async down(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  }

  since(at: number): Received[] {
    return this.reports.filter((r) => r.at >= at);
  }
}

/** A port nothing listens on (the OS gave it, and it was closed again at once). */
export { freePort } from "../../../../tools/local/ports.ts";

export interface SendResult {
  sent: number;
  seconds: number;
  /** Jobs per second actually sent. */
  rate: number;
  statuses: Record<number, number>;
}

/**
 * Open-loop load: POSTs jobs on schedule (rate per second) for `durationMs`, whatever the
 * answers, catching up in each 20 ms tick so timer jitter does not lower the rate.
 */
export function sendJobs(
  url: string,
  rate: number,
  durationMs: number,
  costMs = 10,
): Promise<SendResult> {
  return sendRequests(`${url}/jobs`, rate, durationMs, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ costMs }),
  });
}

/** Open-loop load of any request: `rate` per second for `durationMs`. */
export async function sendRequests(
  url: string,
  rate: number,
  durationMs: number,
  init: RequestInit = {},
): Promise<SendResult> {
  const statuses: Record<number, number> = {};
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= durationMs) break;
    const due = Math.floor((rate * elapsed) / 1000);
    for (; sent < due; sent++) {
      inflight.push(
        fetch(url, init)
          .then(async (res) => {
            await res.arrayBuffer();
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          })
          .catch(() => {
            statuses[0] = (statuses[0] ?? 0) + 1;
          }),
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(inflight);
  return { sent, seconds, rate: sent / seconds, statuses };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
