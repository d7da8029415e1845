import { setTimeout as sleep } from "node:timers/promises";
import type { Hono } from "hono";
import { z } from "zod";
import { envVars } from "./config.ts";
import { type OperationSpec, problem } from "./openapi.ts";
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
  const params = faultParams(options);
  app.get("/delay/:ms", async (c) => {
    const raw = c.req.param("ms");
    const ms = digits(raw, params.ms);
    if (ms === undefined) {
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
    const code = digits(raw, params.code);
    if (code === undefined) {
      throw problems.badRequest(`code: expected an HTTP status 200..599, got "${raw}"`);
    }
    if (code >= 400) throw new HttpProblem(code, `status ${code} requested`);
    if (code === 204 || code === 205 || code === 304) return c.body(null, code);
    return c.json({ status: code }, code as 200);
  });
}

/** The path parameters' schemas: what the handlers accept and what the OpenAPI document says. */
function faultParams(options: FaultOptions) {
  return {
    ms: z.number().int().min(0).max(options.maxDelayMs),
    code: z.number().int().min(200).max(599),
  };
}

/** A path segment that is a plain decimal integer (no sign, exponent or spaces) within `schema`. */
function digits(raw: string, schema: z.ZodNumber): number | undefined {
  if (!/^\d{1,16}$/.test(raw)) return undefined;
  const parsed = schema.safeParse(Number(raw));
  return parsed.success ? parsed.data : undefined;
}

/** The fault endpoints as OpenAPI operations. */
export function faultOperations(options: FaultOptions): OperationSpec[] {
  const params = faultParams(options);
  const bad = problem("not an integer in range");
  return [
    {
      method: "get",
      path: "/delay/:ms",
      operationId: "delay",
      summary: "answers after ms milliseconds",
      params: { ms: params.ms },
      responses: {
        "200": { description: "delayed", schema: z.object({ delayed_ms: z.number().int() }) },
        "400": bad,
      },
    },
    {
      method: "get",
      path: "/status/:code",
      operationId: "status",
      summary: "answers with that status (problem+json for 4xx and 5xx); 5xx on purpose",
      params: { code: params.code },
      responses: {
        "204": { description: "no content" },
        "205": { description: "no content" },
        "304": { description: "no content" },
        "2XX": {
          description: "the status asked for",
          schema: z.object({ status: z.number().int() }),
        },
        "3XX": {
          description: "the status asked for",
          schema: z.object({ status: z.number().int() }),
        },
        "4XX": problem("the status asked for (400 also for a bad code)"),
        "5XX": problem("the status asked for"),
      },
    },
  ];
}
