import { randomBytes } from "node:crypto";
import { z } from "zod";
import { envVars, httpServerEnv } from "../../services/kit/config.ts";

export const controllerEnv = z.object({
  ...httpServerEnv,
  PORT: envVars.port().default(9090),
  /** A report body is tiny; anything bigger is refused early. */
  MAX_BODY_BYTES: envVars.positiveInt(1_048_576).default(16 * 1024),
  SHUTDOWN_DELAY: envVars.durationMs().default(1000),
  SHUTDOWN_TIMEOUT: envVars.durationMs().default(5000),
  /** Shared bearer token for agents (local mode). Generated and printed when unset. */
  SWELL_TOKEN: envVars.string().optional(),
  /** YAML file with ScalingPolicy documents. */
  SWELL_POLICIES: envVars.string().default("swell.local.yaml"),
  /** Where scale changes go: `memory` only remembers them (try the API, benchmarks). */
  SWELL_BACKEND: z.enum(["memory"]).default("memory"),
  /** This instance's name, shown as the leader identity. */
  SWELL_IDENTITY: envVars.string().optional(),
  /** A pod silent for longer is left out of the aggregate (not read as zero load). */
  SWELL_POD_TTL: envVars.durationMs().default(5000),
  /** Every workload is decided on at least this often. */
  SWELL_TICK: envVars.durationMs().default(1000),
  /** Reports whose window ended longer ago are refused as stale. */
  SWELL_REPORT_MAX_AGE: envVars.durationMs().default(30_000),
  /** Reports a second one pod may send (bursts of twice that). */
  SWELL_REPORTS_PER_POD_PER_SECOND: envVars.positiveInt(1000).default(20),
});
export type ControllerConfig = z.output<typeof controllerEnv>;

/** The token agents must send: configured, or a new random one the operator is shown once. */
export function resolveToken(config: ControllerConfig): { token: string; generated: boolean } {
  if (config.SWELL_TOKEN) return { token: config.SWELL_TOKEN, generated: false };
  return { token: randomBytes(24).toString("base64url"), generated: true };
}
