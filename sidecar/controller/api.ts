import type { Hono } from "hono";
import { z } from "zod";
import { parseJsonBody, parseJsonText } from "../../services/kit/app.ts";
import { HttpProblem, problems } from "../../services/kit/problem.ts";
import { REPORTS_PATH, Report } from "../protocol/report.ts";
import { isPlainReport } from "../protocol/report-check.ts";
import type { Authenticator, Principal } from "./auth.ts";
import type { Controller, Outcome } from "./controller.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { DECISIONS_KEPT, type DecisionRecord, type Workload } from "./workload.ts";

export interface ApiDeps {
  controller: Controller;
  auth: Authenticator;
  limiter: RateLimiter;
  clock: () => number;
  /** For a pod principal: may this pod report for that workload? (Kubernetes mode.) */
  mayReport?: (principal: Principal, report: Report) => Promise<boolean>;
}

export const PrescaleBody = z.strictObject({
  replicas: z.number().int().min(0).max(10_000),
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600),
  reason: z.string().min(1).max(256),
});

export const DecisionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(DECISIONS_KEPT).default(DECISIONS_KEPT),
});

/** The prescale route, which a cluster's controller guards and forwards like reports. */
export const PRESCALE_PATH = "/v1/workloads/:namespace/:name/prescale";
/** The fresh per-pod signals the metrics API serves; a follower reads the leader's here. */
export const SIGNALS_PATH = "/v1/signals";
export const SignalsQuery = z.strictObject({ namespace: z.string().min(1).max(63).optional() });

/**
 * Takes one report, given its `Authorization` header and body as read: resolves when accepted
 * (202), throws the `HttpProblem` that refuses it otherwise. The Hono route and the node:http
 * route (report-route.ts) both call it, so the two cannot differ in what they accept.
 */
export type TakeReport = (authorization: string | undefined, body: string) => Promise<void>;

/** Adds the controller's API (docs/controller.md, API) to an app made by the kit. */
export function registerControllerApi(app: Hono, deps: ApiDeps): TakeReport {
  const { controller, auth, limiter, clock } = deps;

  const authenticate = async (authorization: string | undefined): Promise<Principal> => {
    const principal = await auth.authenticate(authorization);
    if (!principal) {
      throw new HttpProblem(401, "a valid bearer token is required", {
        headers: { "www-authenticate": 'Bearer realm="swell"' },
      });
    }
    return principal;
  };

  const takeReport: TakeReport = async (authorization, body) => {
    const principal = await authenticate(authorization);
    const report = parseReport(body);
    if (deps.mayReport && !(await deps.mayReport(principal, report))) {
      throw new HttpProblem(
        403,
        `this token may not report for ${report.workload.namespace}/${report.workload.name}`,
      );
    }
    const wait = limiter.take(report.pod.uid, clock());
    if (wait > 0) throw problems.tooManyRequests(`pod ${report.pod.name} reports too often`, wait);
    check(controller.ingest(report));
  };

  app.post(REPORTS_PATH, async (c) => {
    await takeReport(c.req.header("authorization"), await c.req.text());
    return c.json(ACCEPTED, 202);
  });

  app.get("/v1/workloads", (c) =>
    c.json({
      leader: controller.leader.leader() ?? null,
      identity: controller.leader.identity,
      workloads: controller.workloads().map((w) => view(w, clock(), 10)),
    }),
  );

  app.get("/v1/workloads/:namespace/:name", (c) => {
    const w = controller.workload(c.req.param("namespace"), c.req.param("name"));
    if (!w)
      throw problems.notFound(
        `no ScalingPolicy targets ${c.req.param("namespace")}/${c.req.param("name")}`,
      );
    return c.json({
      leader: controller.leader.leader() ?? null,
      identity: controller.leader.identity,
      ...view(w, clock(), 50),
    });
  });

  app.get(SIGNALS_PATH, (c) => {
    const query = SignalsQuery.safeParse(c.req.query());
    if (!query.success) {
      throw problems.badRequest(
        query.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; "),
      );
    }
    return c.json({
      identity: controller.leader.identity,
      workloads: controller.signals(query.data.namespace),
    });
  });

  // Why it has the replicas it has: each decision with its reason, the rule that limited it and
  // what each stage of the policy proposed. Newest first.
  app.get("/v1/workloads/:namespace/:name/decisions", (c) => {
    const { namespace, name } = c.req.param();
    const limit = DecisionsQuery.safeParse(c.req.query());
    if (!limit.success) {
      throw problems.badRequest(
        limit.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      );
    }
    const w = controller.workload(namespace, name);
    if (!w) throw problems.notFound(`no ScalingPolicy targets ${namespace}/${name}`);
    return c.json({
      namespace: w.namespace,
      name: w.policy.spec.targetRef.name,
      policy: w.policy.metadata.name,
      mode: w.policy.spec.mode,
      decisions: w.decisions.newest(limit.data.limit).map(decisionView),
    });
  });

  app.post(PRESCALE_PATH, async (c) => {
    await authenticate(c.req.header("authorization"));
    const body = await parseJsonBody(c, PrescaleBody);
    const { namespace, name } = c.req.param();
    check(controller.prescale(namespace, name, body));
    const decision = await controller.decideNow(namespace, name);
    // Times as in every other answer of the API: ISO 8601, not epoch ms.
    const shown = decision && { ...decision, at: new Date(decision.at).toISOString() };
    return c.json({ accepted: true, decision: shown }, 202);
  });
  return takeReport;
}

/** The answer to an accepted report. */
export const ACCEPTED = { accepted: true } as const;

/**
 * The body as a report: what passes the plain check (report-check.ts) is taken as parsed; the
 * rest goes through the schema, which refuses it with each offending field named (400).
 */
function parseReport(body: string): Report {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    // Not JSON (or empty): the kit's parser says which, as on every other route.
    return parseJsonText(body, Report);
  }
  return isPlainReport(json) ? json : parseJsonText(body, Report);
}

function check(outcome: Outcome): void {
  if (!outcome.ok) throw new HttpProblem(outcome.status, outcome.detail, { title: outcome.title });
}

/** What the API shows of a workload: enough to see why it has the replicas it has. */
export function view(w: Workload, now: number, decisions: number) {
  const agg = w.lastAggregate;
  const last = w.decisions.last;
  const { spec, metadata } = w.policy;
  return {
    namespace: w.namespace,
    name: spec.targetRef.name,
    kind: spec.targetRef.kind,
    policy: metadata.name,
    mode: spec.mode,
    minReplicas: spec.minReplicas,
    maxReplicas: spec.maxReplicas,
    currentReplicas: w.scale?.replicas ?? null,
    readyReplicas: w.scale?.readyReplicas ?? null,
    desiredReplicas: last?.desiredReplicas ?? null,
    lastScaleTime: w.lastScaleTime ? new Date(w.lastScaleTime).toISOString() : null,
    pods: {
      known: w.pods.size,
      reporting: agg?.pods ?? 0,
      notReady: agg?.notReady ?? 0,
      unreachable: agg?.unreachable ?? 0,
      expired: agg?.expired ?? 0,
    },
    signals: agg?.signals ?? {},
    floors: w.floors
      .filter((f) => f.expiresAt > now)
      .map((f) => ({ ...f, expiresAt: new Date(f.expiresAt).toISOString() })),
    decisions: w.decisions.newest(decisions).map(decisionView),
  };
}

/** A decision as the API and the live page show it: times as ISO strings. */
export function decisionView(d: DecisionRecord) {
  return { ...d, at: new Date(d.at).toISOString() };
}
