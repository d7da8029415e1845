/**
 * Clients for the abuse and fault tests: raw sockets that misbehave on purpose, and a probe that
 * measures how a well-behaved client is served meanwhile. Loopback only; every loop is bounded.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** The p-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

export interface Latency {
  p50: number;
  p95: number;
  max: number;
  failures: number;
  n: number;
}

/**
 * `n` requests one after the other to `url`, `gapMs` apart (a fresh connection each, like a new
 * client), their latency in ms and how many failed or answered other than 2xx.
 */
export async function probe(
  url: string,
  n: number,
  init: () => RequestInit = () => ({}),
  gapMs = 5,
): Promise<Latency> {
  const ms: number[] = [];
  let failures = 0;
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    try {
      const res = await fetch(url, {
        ...init(),
        headers: { connection: "close", ...(init().headers ?? {}) },
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      if (res.status >= 300) failures++;
    } catch {
      failures++;
    }
    ms.push(performance.now() - start);
    await sleep(gapMs);
  }
  return {
    p50: round(percentile(ms, 50)),
    p95: round(percentile(ms, 95)),
    max: round(Math.max(...ms)),
    failures,
    n,
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** What the server did with a misbehaving connection, and when (ms after it was opened). */
export interface Fate {
  /** The first bytes the server sent (e.g. `HTTP/1.1 408 Request Timeout`), or "". */
  answer: string;
  /** When the server closed it; undefined while open. */
  closedAfterMs?: number;
  error?: string;
}

/**
 * Opens a raw connection and runs `behave` on it (write a little, wait, write again…); resolves
 * `fate` when the server closes it. `stop()` ends the misbehaving writes and closes it.
 */
export function misbehave(
  port: number,
  behave: (socket: net.Socket, signal: AbortSignal) => Promise<void>,
): { fate: Promise<Fate>; stop: () => void; opened: Promise<void> } {
  const socket = net.connect(port, "127.0.0.1");
  const ac = new AbortController();
  const start = performance.now();
  const result: Fate = { answer: "" };
  socket.on("data", (d) => {
    if (result.answer === "") result.answer = String(d).split("\r\n")[0] ?? "";
  });
  socket.on("error", (e) => {
    result.error = (e as NodeJS.ErrnoException).code ?? e.message;
  });
  const opened = new Promise<void>((resolve) => {
    socket.once("connect", () => resolve());
    socket.once("close", () => resolve());
  });
  const fate = new Promise<Fate>((resolve) =>
    socket.once("close", () => {
      ac.abort();
      result.closedAfterMs = Math.round(performance.now() - start);
      resolve(result);
    }),
  );
  void opened.then(() => behave(socket, ac.signal).catch(() => {}));
  return {
    fate,
    opened,
    stop: () => {
      ac.abort();
      socket.destroy();
    },
  };
}

/** Writes `chunks` one by one, `gapMs` apart, until they run out or the socket is closed. */
export async function trickle(
  socket: net.Socket,
  signal: AbortSignal,
  chunks: Iterable<string>,
  gapMs: number,
): Promise<void> {
  for (const chunk of chunks) {
    if (signal.aborted || !socket.writable) return;
    socket.write(chunk);
    await sleep(gapMs, undefined, { signal });
  }
}

/** `count` copies of `make(i)`. */
export function* times(count: number, make: (i: number) => string): Iterable<string> {
  for (let i = 0; i < count; i++) yield make(i);
}

/**
 * A policies file for the controller under test: one ScalingPolicy for default/worker, sized on
 * queueLength (10 a replica). `scaleDownAtOnce` drops the scale-down window, so a controller that
 * scaled down on missing data would show it at once.
 */
export function workerPolicyFile(
  options: { maxReplicas?: number; scaleDownAtOnce?: boolean } = {},
) {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "swell-policy-")), "policies.yaml");
  writeFileSync(
    file,
    `apiVersion: scaling.swell.dev/v1alpha1
kind: ScalingPolicy
metadata: { name: worker, namespace: default }
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: worker }
  minReplicas: 1
  maxReplicas: ${options.maxReplicas ?? 10}
  metrics: [{ name: queueLength, averageValue: 10 }]
${options.scaleDownAtOnce ? "  behavior: { scaleDown: { stabilizationWindowSeconds: 0 } }\n" : ""}`,
  );
  return file;
}
