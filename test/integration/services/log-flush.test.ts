// The kit's log (services/kit/logger.ts) must lose no line however a process ends. These run
// real processes and send real signals: whatever a process logged before it exits must be on
// its stdout, and the kit's shutdown keeps the last lines in order.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const PROGRAM = "test/integration/services/programs/log-lines.ts";

interface Run {
  proc: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  exited: Promise<number | string>;
  waitFor(msg: string): Promise<Record<string, unknown>>;
}

function run(how: string, count: number, env: Record<string, string> = {}): Run {
  const proc = spawn(process.execPath, ["--import", "tsx", PROGRAM, how, String(count)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Array<Record<string, unknown>> = [];
  let rest = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  proc.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const text of parts) lines.push(JSON.parse(text));
    for (const w of waiters) w();
  });
  proc.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(proc, "exit").then(([code, signal]) => (code ?? signal) as number | string);
  const waitFor = (msg: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = lines.find((l) => l.msg === msg);
        if (found) {
          waiters.delete(check);
          resolve(found);
        }
      };
      waiters.add(check);
      void exited.then(() => reject(new Error(`exited before "${msg}"; stderr: ${stderr}`)));
      check();
    });
  return { proc, lines, stderr: () => stderr, exited, waitFor };
}

/** The `i` of each "line" line, in the order written. */
const numbered = (r: Run) => r.lines.filter((l) => l.msg === "line").map((l) => l.i);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** `n` GETs, 50 at a time over keep-alive connections; resolves when all are answered. */
async function requests(url: string, n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const res = await fetch(url);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
}

describe("the kit's log loses no line (real processes, real signals)", () => {
  it("when the event loop empties and the process ends by itself", async () => {
    const r = run("end", 20_000);
    expect(await r.exited).toBe(0);
    expect(numbered(r)).toEqual(range(20_000));
  }, 60_000);

  it("on an uncaught error (exit 1): the lines of the turn it was thrown in too", async () => {
    const r = run("throw", 20_000);
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toContain("uncaught, on purpose");
    expect(numbered(r)).toEqual(range(20_000));
  }, 60_000);

  it("on a config error exit (exit 2)", async () => {
    const r = run("config-error", 20_000);
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toContain('config: PORT: expected an integer 0..65535, got "not-a-port"');
    expect(numbered(r).sort((a, b) => Number(a) - Number(b))).toEqual(range(20_000));
  }, 60_000);

  it("on SIGTERM right after a burst of requests: every access line, in order, then shutdown complete", async () => {
    const r = run("serve", 0);
    const { url } = await r.waitFor("listening");
    await requests(String(url), 2000);
    r.proc.kill("SIGTERM");
    expect(await r.exited).toBe(0);
    const access = r.lines.filter((l) => l.msg === "request");
    expect(access).toHaveLength(2000);
    expect(r.lines.at(-1)?.msg).toBe("shutdown complete");
    const times = r.lines.map((l) => Date.parse(String(l.time)));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  }, 90_000);

  it("on a second SIGTERM, which exits at once (143) while requests are still being answered", async () => {
    const r = run("serve", 0, { SHUTDOWN_DELAY_MS: "30000" });
    const { url } = await r.waitFor("listening");
    let answered = 0;
    const stop = new AbortController();
    const load = Array.from({ length: 20 }, async () => {
      while (!stop.signal.aborted) {
        const res = await fetch(String(url), { signal: stop.signal }).catch(() => undefined);
        if (!res) return;
        await res.arrayBuffer().catch(() => undefined);
        if (res.status === 200) answered++;
      }
    });
    while (answered < 500) await new Promise((resolve) => setTimeout(resolve, 10));
    r.proc.kill("SIGTERM");
    await r.waitFor("shutdown: not ready, still serving");
    const before = answered;
    while (answered < before + 500) await new Promise((resolve) => setTimeout(resolve, 10));
    r.proc.kill("SIGTERM");
    expect(await r.exited).toBe(143);
    stop.abort();
    await Promise.all(load);
    // A request's access line is logged before its answer is sent: at least one per answer.
    expect(r.lines.filter((l) => l.msg === "request").length).toBeGreaterThanOrEqual(answered);
    // Exiting here does not wait for a write in flight, so only the set of lines is certain.
    expect(r.lines.some((l) => l.msg === "shutdown: second signal, exiting now")).toBe(true);
  }, 90_000);
});
