import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { scanRepository } from "../../../../tools/conflicts/scan.ts";

const ROOT = path.resolve(import.meta.dirname, "../../../..");
const OPEN = `${"<".repeat(7)} HEAD`;
const MID = "=".repeat(7);
const CLOSE = `${">".repeat(7)} main`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A real Git repository in a temp directory with `files` committed. */
function repo(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "swell-conflicts-"));
  dirs.push(dir);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "pipe" });
  git("init", "-q");
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "files");
  return dir;
}

describe("scanRepository", () => {
  it("names every marker line of the tracked files, from any directory in the repository", () => {
    const dir = repo({
      "README.md": ["# Title", "", OPEN, "ours", MID, "theirs", CLOSE].join("\n"),
      ".ci/run": ["#!/bin/sh", OPEN, MID, CLOSE].join("\n"),
      "docs/clean.md": ["Heading", MID].join("\n"),
    });
    writeFileSync(path.join(dir, "untracked.txt"), OPEN);
    expect(scanRepository(path.join(dir, "docs"))).toEqual([
      { file: ".ci/run", line: 2, text: OPEN },
      { file: ".ci/run", line: 3, text: MID },
      { file: ".ci/run", line: 4, text: CLOSE },
      { file: "README.md", line: 3, text: OPEN },
      { file: "README.md", line: 5, text: MID },
      { file: "README.md", line: 7, text: CLOSE },
    ]);
  });

  it("passes a clean repository, binary files and files deleted from the working tree", () => {
    const dir = repo({
      "a.md": "Title\n=======\n",
      "blob.bin": Buffer.concat([Buffer.from([0]), Buffer.from(`\n${OPEN}\n`)]),
      "gone.txt": `${OPEN}\n`,
    });
    rmSync(path.join(dir, "gone.txt"));
    expect(scanRepository(dir)).toEqual([]);
  });
});

describe("the lint step (tools/conflicts/main.ts)", () => {
  const lint = (cwd: string) =>
    // Node strips the types itself; tsx would be looked up from the temp directory.
    spawnSync(process.execPath, [path.join(ROOT, "tools/conflicts/main.ts")], {
      cwd,
      encoding: "utf8",
    });

  it("fails naming file:line", () => {
    const r = lint(repo({ "notes.txt": ["a", OPEN, MID, CLOSE].join("\n") }));
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 1,
      stderr: [
        `notes.txt:2: conflict marker: ${OPEN}`,
        `notes.txt:3: conflict marker: ${MID}`,
        `notes.txt:4: conflict marker: ${CLOSE}`,
        "3 conflict marker line(s): resolve the merge",
        "",
      ].join("\n"),
    });
  });

  it("passes a clean repository, silently", () => {
    const r = lint(repo({ "notes.txt": "a\n" }));
    expect({ status: r.status, stderr: r.stderr, stdout: r.stdout }).toEqual({
      status: 0,
      stderr: "",
      stdout: "",
    });
  });
});
