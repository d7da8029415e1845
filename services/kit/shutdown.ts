import { setTimeout as sleep } from "node:timers/promises";
import type { Health } from "./health.ts";
import { flushLogger, type Logger } from "./logger.ts";
import type { RunningServer } from "./server.ts";

/**
 * Work to finish before exit besides HTTP requests, e.g. a work queue. `drain` must resolve
 * soon after `deadline` aborts; the fields it returns go on the final log line.
 */
export interface DrainHook {
  name: string;
  drain(deadline: AbortSignal): Promise<object | undefined>;
}

/** The process surface shutdown needs; `process` in main, a fake-free EventEmitter in tests. */
export interface SignalSource {
  on(event: "SIGTERM" | "SIGINT", listener: (signal: NodeJS.Signals) => void): unknown;
  off?(event: "SIGTERM" | "SIGINT", listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownDeps {
  health: Health;
  server: Pick<RunningServer, "close" | "closeAllConnections">;
  logger: Logger;
  /** How long /readyz is 503 while still serving normally (load balancers catch up). */
  delayMs: number;
  /** After the delay, the budget for in-flight requests and drain hooks. */
  timeoutMs: number;
  drainHooks?: DrainHook[];
  /** Run last, e.g. flushing telemetry; bounded by `flushTimeoutMs`. */
  flush?: Array<() => Promise<void>>;
  flushTimeoutMs?: number;
  exit: (code: number) => void;
  /** Where SIGTERM/SIGINT come from; omit to trigger shutdown only by calling it. */
  signals?: SignalSource;
}

export interface Shutdown {
  /** Aborted when shutdown starts: background loops stop on it. */
  readonly signal: AbortSignal;
  /** Starts the graceful shutdown (a second call exits at once); resolves after `exit(0)`. */
  begin(reason: string): Promise<void>;
}

/**
 * Graceful shutdown, as Kubernetes expects it. On the first SIGTERM/SIGINT: /readyz turns 503
 * at once; the server keeps serving for `delayMs` so endpoints drop the pod; then it stops
 * accepting, finishes in-flight requests and the drain hooks within `timeoutMs` (dropping what
 * is left when that passes), flushes telemetry and exits 0. A second signal exits at once.
 */
export function createShutdown(deps: ShutdownDeps): Shutdown {
  const controller = new AbortController();
  let started = false;

  async function begin(reason: string): Promise<void> {
    if (started) {
      deps.logger.warn({ reason }, "shutdown: second signal, exiting now");
      deps.exit(reason === "SIGINT" ? 130 : 143);
      return;
    }
    started = true;
    controller.abort();
    deps.health.markDraining();
    deps.logger.info(
      { reason, delay_ms: deps.delayMs, timeout_ms: deps.timeoutMs },
      "shutdown: not ready, still serving",
    );
    await sleep(deps.delayMs);

    deps.logger.info("shutdown: stopped accepting, finishing in-flight work");
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), deps.timeoutMs);
    const serverDone = Promise.race([
      deps.server.close().then(() => true),
      new Promise<false>((resolve) =>
        deadline.signal.addEventListener("abort", () => resolve(false), { once: true }),
      ),
    ]);
    const hookResults = await Promise.all(
      (deps.drainHooks ?? []).map(async (hook) => {
        try {
          return (await hook.drain(deadline.signal)) ?? {};
        } catch (err) {
          deps.logger.error({ err, hook: hook.name }, "shutdown: drain hook failed");
          return {};
        }
      }),
    );
    const requestsFinished = await serverDone;
    if (!requestsFinished) deps.server.closeAllConnections();
    clearTimeout(timer);

    const flushTimeout = deps.flushTimeoutMs ?? 5000;
    await Promise.race([
      Promise.allSettled((deps.flush ?? []).map((f) => f())),
      sleep(flushTimeout, undefined, { ref: false }),
    ]);
    deps.logger.info(
      Object.assign({ requests_finished: requestsFinished }, ...hookResults),
      "shutdown complete",
    );
    // The log is written asynchronously: let the last lines out, in order, before exiting.
    await flushLogger(deps.logger);
    deps.exit(0);
  }

  if (deps.signals) {
    for (const name of ["SIGTERM", "SIGINT"] as const) {
      deps.signals.on(name, (signal) => void begin(signal ?? name));
    }
  }
  return { signal: controller.signal, begin };
}
