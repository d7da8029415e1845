import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { BenchContext } from "./context.ts";

export const SIMULATOR_ENTRY = "tools/simulate/main.ts";

/** The scoring seeds (docs/simulator.md): nothing was tuned on them. --quick runs the first 40. */
export const SCORING_SEEDS = { from: 1001, to: 1200 } as const;
const QUICK_SEEDS = 40;

function simulate(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", SIMULATOR_ENTRY, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (b) => (out += b));
    p.stderr.on("data", (b) => (err += b));
    p.on("error", reject);
    p.on("close", (code) =>
      code === 0
        ? resolve(out.trimEnd())
        : reject(new Error(`simulate ${args.join(" ")} exited ${code}: ${err.slice(-2000)}`)),
    );
  });
}

/**
 * Policy quality: the simulator's table on the built-in traces (`npm run simulate`), then the
 * issue-14 figures (undominated by every baseline setting, median cost against the oracle,
 * reversals against the KPA's) over the built-in traces and over the scoring seeds. Each runs as
 * its own process; the simulator is deterministic, so it needs no baseline.
 */
export async function benchPolicy(ctx: BenchContext): Promise<{ table: string }> {
  if (!existsSync(SIMULATOR_ENTRY)) {
    return { table: `(no ${SIMULATOR_ENTRY} in this tree: run npm run simulate once it lands)` };
  }
  ctx.progress("policy: npm run simulate");
  const table = await simulate([]);
  const builtins = await simulate(["--summary"]);
  const to = ctx.quick ? SCORING_SEEDS.from + QUICK_SEEDS - 1 : SCORING_SEEDS.to;
  const seeds = `${SCORING_SEEDS.from}..${to}`;
  ctx.progress(`policy: npm run simulate -- --trace random --seeds ${seeds} --summary`);
  const scoring = await simulate(["--trace", "random", "--seeds", seeds, "--summary"]);
  return {
    table: [
      table,
      "",
      "Over the built-in traces (npm run simulate -- --summary):",
      builtins,
      "",
      `Over the scoring seeds (npm run simulate -- --trace random --seeds ${seeds} --summary):`,
      scoring,
    ].join("\n"),
  };
}
