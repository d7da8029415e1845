import { setTimeout as sleep } from "node:timers/promises";
import type { Hono } from "hono";
import { envVars } from "./config.ts";
import { HttpProblem, problems } from "./problem.ts";

/** Env for services that register the faults: `FAULT_MAX_DELAY` bounds `/delay/{ms}`. */
export const faultEnv = {
  FAULT_MAX_DELAY: envVars.durationMs(3_600_000).default(30_000),
};

export interface FaultOptions {
  /** Largest delay `/delay/{ms}` accepts; beyond it answers 400. */
  maxDelayMs: number;
}

/**
 * Fault injection like podinfo's, for trying alerts, timeouts and the scaler:
 * `GET /delay/{ms}` answers after ms milliseconds; `GET /status/{code}` answers with that status
 * (problem+json for 4xx/5xx).
 */
export function registerFaults(app: Hono, options: FaultOptions): void {
  app.get("/delay/:ms", async (c) => {
    const raw = c.req.param("ms");
    const ms = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(ms <= options.maxDelayMs)) {
      throw problems.badRequest(`ms: expected an integer 0..${options.maxDelayMs}, got "${raw}"`);
    }
    try {
      await sleep(ms, undefined, { signal: c.req.raw.signal });
    } catch {
      // The client went away; nobody reads this answer.
    }
    return c.json({ delayed_ms: ms });
  });

  app.get("/status/:code", (c) => {
    const raw = c.req.param("code");
    const code = /^\d{3}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(code >= 200 && code <= 599)) {
      throw problems.badRequest(`code: expected an HTTP status 200..599, got "${raw}"`);
    }
    if (code >= 400) throw new HttpProblem(code, `status ${code} requested`);
    if (code === 204 || code === 205 || code === 304) return c.body(null, code);
    return c.json({ status: code }, code as 200);
  });
}
