import type { Controller } from "../../sidecar/controller/controller.ts";
import type { ProcessPool } from "./pool.ts";

/** One line per workload: replicas, load and the newest reason. Pure, for the live view. */
export function statusLines(
  controller: Controller,
  pools: ReadonlyMap<string, ProcessPool>,
): string[] {
  const lines: string[] = [];
  for (const w of controller.workloads()) {
    const pool = pools.get(w.key);
    const s = w.lastAggregate?.signals ?? {};
    const last = w.decisions.last;
    const fmt = (v: number | undefined) =>
      v === undefined ? "-" : v >= 100 ? v.toFixed(0) : v.toFixed(1);
    lines.push(
      [
        w.key.padEnd(18),
        `replicas ${pool?.ready ?? "?"}/${pool?.desired ?? "?"}`.padEnd(14),
        `qps ${fmt(s.requestRate)}`.padEnd(10),
        `queue ${fmt(s.queueLength)}`.padEnd(11),
        `in-flight ${fmt(s.inFlight)}`.padEnd(14),
        last?.panic ? "PANIC " : "",
        last ? truncate(last.reason, 90) : "waiting for reports",
      ].join(" "),
    );
  }
  return lines;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/**
 * Redraws the status block in place on a terminal; elsewhere (CI, a pipe) prints it every
 * `plainEveryMs` so logs stay short.
 */
export function liveStatus(
  out: NodeJS.WriteStream,
  render: () => string[],
  opts: { everyMs: number; plainEveryMs: number; signal: AbortSignal },
): void {
  let drawn = 0;
  let lastPlain = 0;
  const tick = () => {
    const lines = render();
    if (out.isTTY) {
      if (drawn) out.write(`\x1b[${drawn}A`);
      for (const l of lines) out.write(`\x1b[2K${l.slice(0, (out.columns ?? 200) - 1)}\n`);
      drawn = lines.length;
    } else if (Date.now() - lastPlain >= opts.plainEveryMs) {
      lastPlain = Date.now();
      for (const l of lines) out.write(`${new Date().toISOString()} ${l}\n`);
    }
  };
  const timer = setInterval(tick, opts.everyMs);
  opts.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
