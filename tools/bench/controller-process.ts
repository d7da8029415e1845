import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BenchContext } from "./context.ts";
import { policiesYaml } from "./policies.ts";
import { type Program, startProgram, waitHealthy } from "./proc.ts";

export const BENCH_TOKEN = "swell-bench-token";

export interface ControllerProcess {
  program: Program;
  url: string;
  stop(): Promise<void>;
}

/**
 * A real controller process (sidecar/controller/main.ts, memory backend, its default log
 * level) with one ScalingPolicy per workload name, on a free loopback port.
 */
export async function startController(
  ctx: BenchContext,
  workloads: readonly string[],
  env: Record<string, string> = {},
): Promise<ControllerProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), "swell-bench-"));
  const file = path.join(dir, "policies.yaml");
  writeFileSync(file, policiesYaml(workloads));
  const port = await ctx.freePort();
  const program = startProgram("controller", ctx.entries.of("sidecar/controller/main.ts"), {
    HOST: "127.0.0.1",
    PORT: String(port),
    SWELL_BACKEND: "memory",
    SWELL_POLICIES: file,
    SWELL_TOKEN: BENCH_TOKEN,
    SHUTDOWN_DELAY: "0",
    ...env,
  });
  ctx.cleanup.add(program.stop);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(program, `${url}/readyz`);
  return {
    program,
    url,
    async stop() {
      await program.stop();
      ctx.cleanup.delete(program.stop);
    },
  };
}
