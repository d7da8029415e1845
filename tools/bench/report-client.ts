// The controller bench's load client, a process of its own: simulated pods posting reports over
// keep-alive connections on raw sockets, so that what is measured is the server and not the
// client (autocannon in the bench's own process spent about as much CPU a request as a bare
// server, on the same two cores). Settings come from the environment (below); one JSON line
// of results goes to stdout when done.
import net from "node:net";
import { REPORTS_PATH } from "../../sidecar/protocol/report.ts";
import { LatencyHistogram, ResponseSplitter } from "./http-responses.ts";
import { workloadNames } from "./policies.ts";
import { reportBodies } from "./report-load.ts";

export interface ClientResult {
  /** Answers received, by status code. */
  statuses: Record<string, number>;
  errors: string[];
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  /** The client's own CPU time per answered request, µs: it must stay well below the server's. */
  clientCpuUs: number;
}

const env = (name: string) => {
  const v = process.env[name];
  if (v === undefined || v === "") throw new Error(`report-client: ${name} is required`);
  return v;
};
const url = new URL(env("TARGET_URL"));
const token = env("TOKEN");
const connections = Number(env("CONNECTIONS"));
/** Requests in flight per connection: 1 is how an agent sends (one report, then the next). */
const depth = Number(process.env.PIPELINE ?? "1");
const durationMs = Number(process.env.DURATION_S ?? "0") * 1000;
const amount = Number(process.env.AMOUNT ?? "0");
const next = reportBodies(
  { pods: Number(env("PODS")), workloads: workloadNames(Number(env("WORKLOADS"))) },
  Date.now,
  Number(process.env.SEQ_BASE ?? "0"),
);

const head = `POST ${REPORTS_PATH} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\n`;
// Bodies are ASCII (report-load.ts), so their length in characters is their length in bytes.
const request = (body: string) => `${head}Content-Length: ${body.length}\r\n\r\n${body}`;

const latency = new LatencyHistogram();
const statuses: Record<string, number> = {};
const errors: string[] = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let sent = 0;
let lastAnswer = t0;

const more = () =>
  amount > 0 ? sent < amount : performance.now() - t0 < durationMs && errors.length === 0;

await Promise.all(
  Array.from({ length: connections }, () => {
    return new Promise<void>((resolve) => {
      const socket = net.connect({ host: url.hostname, port: Number(url.port) });
      socket.setNoDelay(true);
      socket.setEncoding("latin1");
      const splitter = new ResponseSplitter();
      const sentAt: number[] = [];
      const send = () => {
        let batch = "";
        while (sentAt.length < depth && more()) {
          batch += request(next());
          sentAt.push(performance.now());
          sent++;
        }
        if (batch) socket.write(batch, "latin1");
        else if (sentAt.length === 0) socket.end();
      };
      socket.on("connect", send);
      socket.on("data", (chunk: string) => {
        let answered: number[];
        try {
          answered = splitter.push(chunk);
        } catch (err) {
          errors.push((err as Error).message);
          socket.destroy();
          return;
        }
        const now = performance.now();
        for (const status of answered) {
          latency.record(now - (sentAt.shift() ?? now));
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
        lastAnswer = now;
        send();
      });
      socket.on("error", (err) => errors.push(err.message));
      socket.on("close", () => {
        if (sentAt.length > 0) errors.push(`connection closed with ${sentAt.length} unanswered`);
        resolve();
      });
    });
  }),
);

const cpu = process.cpuUsage(cpu0);
const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
const result: ClientResult = {
  statuses,
  errors: [...new Set(errors)].slice(0, 5),
  seconds: (lastAnswer - t0) / 1000,
  p50Ms: latency.percentile(50),
  p99Ms: latency.percentile(99),
  clientCpuUs: answered > 0 ? (cpu.user + cpu.system) / answered : Number.NaN,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
