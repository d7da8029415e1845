import type { MiddlewareHandler } from "hono";
import { HttpProblem } from "../../../services/kit/problem.ts";
import type { Authenticator } from "../auth.ts";
import type { Controller } from "../controller.ts";
import type { OwnershipCheck } from "./ownership.ts";

/**
 * In a cluster every agent holds a token the controller accepts, so a prescale (a floor that can
 * hold a workload at maxReplicas) must not be open to all of them: a pod may raise the floor of
 * its own workload only (an app that knows a batch is coming). The route itself still checks the
 * token and the body.
 */
export function guardPrescale(deps: {
  auth: Authenticator;
  belongs: OwnershipCheck;
  controller: Controller;
}): MiddlewareHandler {
  return async (c, next) => {
    const principal = await deps.auth.authenticate(c.req.header("authorization"));
    if (principal?.kind === "pod") {
      const namespace = c.req.param("namespace") ?? "";
      const name = c.req.param("name") ?? "";
      const w = deps.controller.workload(namespace, name);
      const kind = w?.policy.spec.targetRef.kind;
      if (kind && !(await deps.belongs(principal, { namespace, kind, name }))) {
        throw new HttpProblem(403, `this token may not prescale ${namespace}/${name}`);
      }
    }
    return next();
  };
}
