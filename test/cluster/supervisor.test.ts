// The harness's promise that no component outlives a run: real processes, real signals.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSupervisor } from "../../tools/cluster/processes.ts";
import { waitFor } from "./kube.ts";

const processesModule = new URL("../../tools/cluster/processes.ts", import.meta.url).pathname;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let dir = "";
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the process supervisor", () => {
  it("stops its processes with SIGTERM, and with SIGKILL one that ignores SIGTERM", async () => {
    dir = await mkdtemp(join(tmpdir(), "swell-supervisor-"));
    const supervisor = createSupervisor(dir);
    const polite = supervisor.start("polite", "sleep", ["1000"]);
    const stubborn = supervisor.start("stubborn", "bash", [
      "-c",
      "trap '' TERM; echo ignoring TERM; sleep 1000 & wait",
    ]);
    // Signal only once the trap is set, or SIGTERM would end it before it can ignore it.
    await waitFor("the trap set", async () =>
      (await readFile(stubborn.logFile, "utf8")).includes("ignoring TERM"),
    );
    supervisor.assertRunning();
    await supervisor.stopAll(1_000);
    expect(polite.exit()).toBe("SIGTERM");
    expect(stubborn.exit()).toBe("SIGKILL");
    expect(alive(polite.pid)).toBe(false);
    expect(alive(stubborn.pid)).toBe(false);
  });

  it("says which process ended, with its last log lines", async () => {
    dir = await mkdtemp(join(tmpdir(), "swell-supervisor-"));
    const supervisor = createSupervisor(dir);
    const failing = supervisor.start("failing", "bash", [
      "-c",
      "echo 'bad flag --nope' >&2; exit 3",
    ]);
    await failing.ended;
    expect(() => supervisor.assertRunning()).toThrow(
      /failing ended \(exit code 3\)[\s\S]*bad flag/,
    );
    await supervisor.stopAll();
  });

  it("kills the process groups and removes the run folder when its owner is SIGKILLed", async () => {
    dir = await mkdtemp(join(tmpdir(), "swell-supervisor-"));
    const runDir = join(dir, "run");
    await mkdir(runDir);
    const owner = join(dir, "owner.mts");
    // The owner starts a process that has a child of its own (same group), prints both pids,
    // and then waits to be killed.
    await writeFile(
      owner,
      `import { createSupervisor } from ${JSON.stringify(processesModule)};
const supervisor = createSupervisor(${JSON.stringify(runDir)}, { removeWhenAbandoned: ${JSON.stringify(runDir)} });
const m = supervisor.start("tree", "bash", ["-c", "sleep 1000 & echo $! > ${runDir}/child.pid; wait"]);
console.log(m.pid);
setInterval(() => {}, 1 << 30);
`,
    );
    const child = spawn(process.execPath, [owner], { stdio: ["ignore", "pipe", "inherit"] });
    const leaderPid = await new Promise<number>((resolve, reject) => {
      child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      child.once("exit", (code) => reject(new Error(`owner exited early (${code})`)));
    });
    const grandchildPid = await waitFor("the grandchild's pid", async () => {
      const pid = Number((await readFile(join(runDir, "child.pid"), "utf8")).trim());
      return pid > 0 ? pid : undefined;
    });
    expect(alive(leaderPid)).toBe(true);
    expect(alive(grandchildPid)).toBe(true);

    child.kill("SIGKILL");
    await waitFor(
      "the whole group gone",
      async () => !alive(leaderPid) && !alive(grandchildPid),
      15_000,
    );
    await waitFor("the run folder removed", async () => !existsSync(runDir), 15_000);
  });
});
