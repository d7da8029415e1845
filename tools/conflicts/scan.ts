import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { conflictMarkers, type Marker } from "./markers.ts";

export interface Finding extends Marker {
  /** Path relative to the repository's top. */
  file: string;
}

/** Conflict markers in every file Git tracks in the working tree at `dir`. */
export function scanRepository(dir: string): Finding[] {
  const top = git(dir, ["rev-parse", "--show-toplevel"]).trim();
  const files = git(top, ["ls-files", "-z"]).split("\0").filter(Boolean);
  const findings: Finding[] = [];
  for (const file of files) {
    let content: Buffer;
    try {
      content = readFileSync(path.join(top, file));
    } catch {
      continue; // Tracked but deleted in the working tree (or a submodule's directory).
    }
    // Like Git: a NUL in the first 8000 bytes means binary.
    if (content.subarray(0, 8000).includes(0)) continue;
    for (const m of conflictMarkers(content.toString("utf8"))) findings.push({ file, ...m });
  }
  return findings;
}

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}
