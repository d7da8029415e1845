import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../../services/kit/app.ts";
import { registerFaults } from "../../../../services/kit/faults.ts";
import { Health } from "../../../../services/kit/health.ts";
import { createLogger } from "../../../../services/kit/logger.ts";
import { createHttpMetrics, createRegistry } from "../../../../services/kit/metrics.ts";
import { listen } from "../../../../services/kit/server.ts";
import { createShutdown, type DrainHook } from "../../../../services/kit/shutdown.ts";

async function start(drainHooks: DrainHook[] = [], timeoutMs = 2000) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    name: "test",
    level: "info",
    destination: { write: (s: string) => lines.push(JSON.parse(s)) },
  });
  const registry = createRegistry({ defaultMetrics: false });
  const health = new Health();
  const app = createApp({
    logger,
    registry,
    metrics: createHttpMetrics(registry),
    health,
    maxBodyBytes: 1024,
  });
  registerFaults(app, { maxDelayMs: 5000 });
  const server = await listen(app, { host: "127.0.0.1", port: 0 });
  health.markReady();
  const signals = new EventEmitter();
  const exits: number[] = [];
  let exited: (code: number) => void = () => {};
  const exitedPromise = new Promise<number>((resolve) => {
    exited = resolve;
  });
  const shutdown = createShutdown({
    health,
    server,
    logger,
    delayMs: 150,
    timeoutMs,
    drainHooks,
    flush: [async () => void lines.push({ msg: "flushed" })],
    exit: (code) => {
      exits.push(code);
      exited(code);
    },
    signals,
  });
  return { server, health, signals, exits, exitedPromise, lines, shutdown };
}

describe("createShutdown", () => {
  it("drains: not ready at once, serves during the delay, finishes in-flight work, exits 0", async () => {
    let hookSawDeadline = false;
    const hook: DrainHook = {
      name: "queue",
      drain: async (deadline) => {
        hookSawDeadline = deadline.aborted;
        return { completed: 4, abandoned: 0 };
      },
    };
    const s = await start([hook]);
    const inFlight = fetch(`${s.server.url}/delay/400`);
    await new Promise((r) => setTimeout(r, 50));
    s.signals.emit("SIGTERM", "SIGTERM");
    expect(s.health.state).toBe("draining");
    expect(s.shutdown.signal.aborted).toBe(true);
    // Still serving during the delay, but not ready.
    const ready = await fetch(`${s.server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${s.server.url}/healthz`)).status).toBe(200);

    expect(await s.exitedPromise).toBe(0);
    expect((await inFlight).status).toBe(200);
    expect(hookSawDeadline).toBe(false);
    const msgs = s.lines.map((l) => l.msg);
    expect(msgs.indexOf("flushed")).toBeLessThan(msgs.indexOf("shutdown complete"));
    expect(s.lines.at(-1)).toMatchObject({
      msg: "shutdown complete",
      completed: 4,
      abandoned: 0,
      requests_finished: true,
    });
    // No longer accepting connections.
    await expect(fetch(`${s.server.url}/healthz`)).rejects.toThrow();
  });

  it("a second signal exits at once", async () => {
    const s = await start();
    s.signals.emit("SIGTERM", "SIGTERM");
    s.signals.emit("SIGINT", "SIGINT");
    expect(s.exits).toEqual([130]);
    s.server.closeAllConnections();
    await s.server.close();
  });

  it("gives up on what is left when the timeout passes, and still exits 0", async () => {
    const hook: DrainHook = {
      name: "stuck",
      drain: (deadline) =>
        new Promise((resolve) =>
          deadline.addEventListener("abort", () => resolve({ completed: 0, abandoned: 3 })),
        ),
    };
    const s = await start([hook], 200);
    const stuckRequest = fetch(`${s.server.url}/delay/5000`).catch((err: Error) => err);
    await new Promise((r) => setTimeout(r, 50));
    void s.shutdown.begin("SIGTERM");
    expect(await s.exitedPromise).toBe(0);
    expect(await stuckRequest).toBeInstanceOf(Error);
    expect(s.lines.at(-1)).toMatchObject({
      msg: "shutdown complete",
      abandoned: 3,
      requests_finished: false,
    });
  });
});
