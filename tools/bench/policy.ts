import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { BenchContext } from "./context.ts";

export const SIMULATOR_ENTRY = "tools/simulate/main.ts";

/**
 * Policy quality: the simulator's table (`npm run simulate`), run as its own process. It is
 * deterministic, so it needs no baseline; it is printed as the simulator prints it.
 */
export async function benchPolicy(ctx: BenchContext): Promise<{ table: string }> {
  if (!existsSync(SIMULATOR_ENTRY)) {
    return { table: `(no ${SIMULATOR_ENTRY} in this tree: run npm run simulate once it lands)` };
  }
  ctx.progress("policy: npm run simulate");
  return await new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", SIMULATOR_ENTRY], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (b) => (out += b));
    p.stderr.on("data", (b) => (err += b));
    p.on("error", (e) => reject(new Error(`cannot run ${SIMULATOR_ENTRY}: ${e.message}`)));
    p.on("close", (code, signal) =>
      code === 0
        ? resolve({ table: out.trimEnd() })
        : reject(
            new Error(
              `${SIMULATOR_ENTRY} ${signal ? `killed by ${signal}` : `exited ${code}`}: ${err.slice(-2000).trim() || "(nothing on stderr)"}`,
            ),
          ),
    );
  });
}
