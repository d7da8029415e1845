import type { MiddlewareHandler } from "hono";
import { Counter, type Registry } from "prom-client";
import { HttpProblem } from "../../../services/kit/problem.ts";

/** Set on a forwarded request: the receiver takes it itself, whether it leads or not (no loops). */
export const FORWARDED_HEADER = "x-swell-forwarded-by";

export interface ForwardDeps {
  identity: string;
  isLeader: () => boolean;
  /** The leader's URL, when another instance leads. */
  leaderUrl: () => string | undefined;
  registry: Registry;
  timeoutMs: number;
}

/**
 * Reports reach any controller replica (one Service in front of all), but only the leader's
 * decisions are applied. A follower passes each report on to the leader and answers with the
 * leader's answer, so an agent learns it was taken only once the leader has it; when there is no
 * reachable leader (a failover), 503 with Retry-After makes the agent send it again. The leader
 * checks the agent's token itself (it is forwarded as sent): a follower adds no trust.
 *
 * A report the leader took is also ingested here, so that this replica's history is warm should it
 * become the leader. Prescales (floors) go the same way, for the same reasons.
 */
export function forwardReportsToLeader(deps: ForwardDeps): MiddlewareHandler {
  const forwarded = new Counter({
    name: "swell_forwarded_requests_total",
    help: "Reports and prescales a follower passed on to the leader, by outcome (the leader's status class, or unreachable, no_leader).",
    labelNames: ["outcome"] as const,
    registers: [deps.registry],
  });
  return async (c, next) => {
    if (c.req.method !== "POST" || c.req.header(FORWARDED_HEADER) || deps.isLeader()) {
      return next();
    }
    const url = deps.leaderUrl();
    if (!url) {
      forwarded.inc({ outcome: "no_leader" });
      throw new HttpProblem(503, "no controller leads right now; send it again", {
        headers: { "retry-after": "1" },
      });
    }
    const body = await c.req.text();
    let res: Response;
    try {
      res = await fetch(new URL(c.req.path, url), {
        method: "POST",
        headers: {
          "content-type": c.req.header("content-type") ?? "application/json",
          authorization: c.req.header("authorization") ?? "",
          [FORWARDED_HEADER]: deps.identity,
        },
        body,
        signal: AbortSignal.timeout(deps.timeoutMs),
      });
    } catch {
      forwarded.inc({ outcome: "unreachable" });
      throw new HttpProblem(503, "the leading controller did not answer; send it again", {
        headers: { "retry-after": "1" },
      });
    }
    forwarded.inc({ outcome: `${Math.floor(res.status / 100)}xx` });
    const answer = await res.arrayBuffer();
    if (res.ok) await next();
    const headers = new Headers();
    for (const h of ["content-type", "retry-after", "www-authenticate"]) {
      const v = res.headers.get(h);
      if (v) headers.set(h, v);
    }
    // The leader's answer is the agent's answer, whatever this replica made of the report.
    c.res = undefined;
    c.res = new Response(answer, { status: res.status, headers });
  };
}
