import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export interface LatencySample {
  /** Milliseconds per answered request, in sending order. */
  latenciesMs: number[];
  errors: number;
}

/**
 * Open-loop GETs at a fixed rate over keep-alive connections, timing each request with
 * performance.now() (sub-millisecond, unlike autocannon's whole-millisecond histogram). The
 * schedule does not wait for answers, so a stall shows up as latency rather than as fewer
 * requests.
 */
export async function measureLatency(
  url: string,
  options: { rps: number; durationMs: number; connections?: number },
): Promise<LatencySample> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections ?? 16 });
  const latenciesMs: number[] = [];
  let errors = 0;
  const pending = new Set<Promise<void>>();
  const gapMs = 1000 / options.rps;
  const start = performance.now();
  for (let i = 0; ; i++) {
    const due = start + i * gapMs;
    if (due - start >= options.durationMs) break;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const t0 = performance.now();
    const p = new Promise<void>((resolve) => {
      const req = http.get(url, { agent, timeout: 10_000 }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode === 200) latenciesMs.push(performance.now() - t0);
          else errors++;
          resolve();
        });
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => {
        errors++;
        resolve();
      });
    });
    pending.add(p);
    void p.then(() => pending.delete(p));
  }
  await Promise.all([...pending]);
  agent.destroy();
  return { latenciesMs, errors };
}
