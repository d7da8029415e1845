import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";

export const BUILD_DIR = "out/bench-dist";

/** How the benchmarked programs are run: built JavaScript, as they ship, or the sources. */
export interface Entries {
  kind: "built" | "source";
  /** The file to run for a source entry such as `services/api/main.ts`. */
  of(entry: string): string;
}

/**
 * Compiles the programs to out/bench-dist (the `npm run build` settings, another directory so
 * nobody's dist/ is touched), since a pod runs `node dist/…/main.js`: type stripping costs RSS
 * and start-up time a deployed agent does not pay. tsc still emits when some
 * file elsewhere in the tree has a type error; the sources run directly when it emitted nothing.
 */
export async function buildEntries(
  required: readonly string[],
): Promise<Entries & { problem?: string }> {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const tsc = path.join("node_modules", "typescript", "bin", "tsc");
  const output = await new Promise<string>((resolve) => {
    const p = spawn(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", BUILD_DIR], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    p.stdout.on("data", (b) => (text += b));
    p.stderr.on("data", (b) => (text += b));
    p.on("close", () => resolve(text));
    p.on("error", (err) => resolve(String(err)));
  });
  const built = (entry: string) => path.join(BUILD_DIR, entry.replace(/\.ts$/, ".js"));
  const missing = required.filter((e) => !existsSync(built(e)));
  if (missing.length > 0) {
    return {
      kind: "source",
      of: (entry) => entry,
      problem: `tsc emitted no ${missing.join(", ")}: ${output.split("\n").slice(0, 3).join(" ")}`,
    };
  }
  return { kind: "built", of: built };
}
