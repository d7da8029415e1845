import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  key,
  leftBehind,
  type ProcessEntry,
  readProcesses,
  self,
} from "../../support/processes.ts";

const ROOT = "/clone";
const run = { pid: 100, pgid: 100, root: ROOT, before: new Set(["50@7"]) };
const entry = (over: Partial<ProcessEntry>): ProcessEntry => ({
  pid: 200,
  ppid: 100,
  state: "S",
  pgid: 100,
  start: 900,
  cwd: ROOT,
  args: "node --import tsx services/worker/main.ts",
  ...over,
});

describe("leftBehind", () => {
  it.each<[string, Partial<ProcessEntry>, boolean]>([
    ["a child of the runner", {}, true],
    ["an orphan still in the runner's group", { ppid: 1 }, true],
    ["an orphan in its own group (detached) working in the clone", { ppid: 1, pgid: 300 }, true],
    [
      "an orphan in its own group working under the clone",
      { ppid: 1, pgid: 300, cwd: `${ROOT}/k8s` },
      true,
    ],
    ["the runner itself", { pid: 100 }, false],
    ["a process alive before the run", { pid: 50, start: 7 }, false],
    ["a reused pid of a process alive before the run", { pid: 50, start: 8 }, true],
    ["a zombie (exited, not yet collected)", { state: "Z" }, false],
    [
      "a vitest pool worker",
      { args: "node /clone/node_modules/vitest/dist/workers/forks.js" },
      false,
    ],
    ["vitest's watchdog", { args: "vitest-watchdog" }, false],
    ["another group's orphan elsewhere", { ppid: 1, pgid: 300, cwd: "/work/other" }, false],
    [
      "another group's orphan in a sibling directory",
      { ppid: 1, pgid: 300, cwd: `${ROOT}-2` },
      false,
    ],
    ["another group's child in the clone", { ppid: 400, pgid: 300 }, false],
  ])("%s: %s", (_, over, expected) => {
    expect(leftBehind([entry(over)], run).length).toBe(expected ? 1 : 0);
  });
});

describe("readProcesses", () => {
  it("sees a real child with its parent, group, directory and arguments, and not once it is reaped", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "swell-procs-"));
    const child = spawn("sleep", ["30"], { cwd, stdio: "ignore" });
    const me = self(readProcesses());
    const seen = readProcesses().find((p) => p.pid === child.pid);
    expect(seen).toMatchObject({ ppid: process.pid, pgid: me.pgid, cwd, args: "sleep 30" });
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(readProcesses().some((p) => seen && key(p) === key(seen))).toBe(false);
  });
});

/**
 * Runs `body` after the guard's setup and then its teardown, in a node process with a group and
 * a directory of its own, so the guard judges only what `body` starts, never this run's other
 * processes. Its stdout: the guard's complaint or "no complaint", then what `body` printed.
 */
async function underGuard(body: string): Promise<{ code: number; out: string }> {
  const cwd = mkdtempSync(path.join(tmpdir(), "swell-guard-"));
  const guard = path.resolve(import.meta.dirname, "../../support/leftover-guard.ts");
  const script = `
    import { spawn } from "node:child_process";
    import { once } from "node:events";
    const { leftoverGuard } = await import(${JSON.stringify(guard)});
    const teardown = leftoverGuard(300);
    ${body}
    try { await teardown(); console.log("no complaint"); }
    catch (err) { console.log(err.message); }
  `;
  const proc = spawn(process.execPath, ["--input-type=module", "-e", script], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  proc.stdout.setEncoding("utf8").on("data", (c: string) => {
    out += c;
  });
  const [code] = await once(proc, "exit");
  return { code, out };
}

describe("the leftover guard", () => {
  it("fails naming a process its run left running, and kills it", async () => {
    const { out } = await underGuard(`
      const leaked = spawn("sleep", ["31"], { stdio: "ignore" });
      leaked.unref();
      console.log("leaked pid " + leaked.pid);
    `);
    expect(out).toMatch(/1 process\(es\) started by the tests were still running/);
    expect(out).toMatch(/pid \d+ \(parent \d+, in .*swell-guard-.*\): sleep 31/);
    const pid = Number(/leaked pid (\d+)/.exec(out)?.[1]);
    const alive = readProcesses().find((p) => p.pid === pid);
    expect(alive === undefined || alive.state === "Z").toBe(true);
  });

  it("passes when its run reaped what it started", async () => {
    const { code, out } = await underGuard(`
      const child = spawn("sleep", ["32"], { stdio: "ignore" });
      child.kill("SIGKILL");
      await once(child, "exit");
    `);
    expect({ code, out: out.trim() }).toEqual({ code: 0, out: "no complaint" });
  });
});
