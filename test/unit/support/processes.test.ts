import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  key,
  leftBehind,
  type ProcessEntry,
  readProcesses,
  self,
} from "../../support/processes.ts";

const tempDirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const ROOT = "/clone";
/** Alive before the run: init, a shell in its own group, the runner (started by the shell). */
const OLD: ProcessEntry[] = [
  { pid: 1, ppid: 0, state: "S", pgid: 1, start: 1, cwd: "/", args: "init" },
  { pid: 90, ppid: 1, state: "S", pgid: 90, start: 5, cwd: "/work", args: "bash" },
  { pid: 100, ppid: 90, state: "S", pgid: 100, start: 7, cwd: ROOT, args: "node vitest run" },
];
/** Also alive before the run: pid 95, gone since (its pid may be reused). */
const run = { pid: 100, pgid: 100, root: ROOT, before: new Set([...OLD.map(key), "95@3"]) };
/** A process started during the run: by default the runner's child, working in the clone. */
const entry = (pid: number, over: Partial<ProcessEntry> = {}): ProcessEntry => ({
  pid,
  ppid: 100,
  state: "S",
  pgid: 100,
  start: 900 + pid,
  cwd: ROOT,
  args: "node --import tsx services/worker/main.ts",
  ...over,
});
const WORKER = "node /clone/node_modules/vitest/dist/workers/forks.js";

describe("leftBehind", () => {
  it.each<[string, ProcessEntry[], number[]]>([
    ["nothing new", [], []],
    ["a child of the runner", [entry(200)], [200]],
    [
      "a grandchild, under a pool worker",
      [entry(200, { args: WORKER }), entry(201, { ppid: 200 })],
      [201],
    ],
    ["an orphan in the runner's group", [entry(200, { ppid: 1 })], [200]],
    ["an orphan's own child", [entry(200, { ppid: 1 }), entry(201, { ppid: 200 })], [200, 201]],
    ["a detached orphan (own group) in the clone", [entry(200, { ppid: 1, pgid: 200 })], [200]],
    [
      "a detached orphan under the clone",
      [entry(200, { ppid: 1, pgid: 200, cwd: `${ROOT}/k8s` })],
      [200],
    ],
    ["a zombie (exited, not yet collected)", [entry(200, { state: "Z" })], []],
    ["vitest's pool worker", [entry(200, { args: WORKER })], []],
    ["vitest's watchdog", [entry(200, { args: "vitest-watchdog" })], []],
    ["a reused pid of a process alive before the run", [entry(95)], [95]],
    ["someone's orphan elsewhere", [entry(200, { ppid: 1, pgid: 200, cwd: "/work/other" })], []],
    [
      "someone's orphan in a sibling directory",
      [entry(200, { ppid: 1, pgid: 200, cwd: `${ROOT}-2` })],
      [],
    ],
    ["a child of an older shell, in the clone", [entry(200, { ppid: 90, pgid: 90 })], []],
    [
      "another test run started later in the same group, and its children",
      [entry(300, { ppid: 90, args: "node vitest run" }), entry(301, { ppid: 300 })],
      [],
    ],
    [
      "an orphan whose parent vanished while the table was read",
      [entry(200, { ppid: 555 })],
      [200],
    ],
  ])("%s", (_, added, expected) => {
    expect(leftBehind([...OLD, ...added], run).map((p) => p.pid)).toEqual(expected);
  });
});

describe("readProcesses", () => {
  it("sees a real child with its parent, group, directory and arguments, and not once it is reaped", async () => {
    const cwd = tempDir("swell-procs-");
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
  const cwd = tempDir("swell-guard-");
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
