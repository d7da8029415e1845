import { z } from "zod";
import {
  kitOperations,
  type OperationSpec,
  openApiDocument,
  problem,
} from "../../services/kit/openapi.ts";
import { REPORTS_PATH, Report } from "../protocol/report.ts";
import { DecisionsQuery, PrescaleBody, SIGNALS_PATH, SignalsQuery } from "./api.ts";
import { EVENTS_PATH } from "./ui/routes.ts";

// What the API answers, as schemas: the fuzz tests check every response against them.
const DecisionView = z.object({
  at: z.iso.datetime(),
  currentReplicas: z.number().int(),
  readyReplicas: z.number().int(),
  desiredReplicas: z.number().int(),
  reason: z.string(),
  limitedBy: z.string().optional(),
  recommendation: z.number().int().optional(),
  stages: z.array(
    z.object({
      stage: z.string(),
      replicas: z.number().int(),
      limitedBy: z.string().optional(),
      note: z.string(),
    }),
  ),
  panic: z.boolean(),
  dryRun: z.boolean(),
  applied: z.boolean(),
  error: z.string().optional(),
  leader: z.string().optional(),
});

/** GET /v1/signals: the fresh signals the metrics API serves (signals-view.ts). */
const WorkloadSignalsView = z.object({
  namespace: z.string(),
  kind: z.string(),
  name: z.string(),
  policy: z.boolean(),
  pods: z.array(
    z.object({
      name: z.string(),
      uid: z.string(),
      at: z.number().int(),
      windowMs: z.number().int(),
      signals: z.record(z.string(), z.number()),
    }),
  ),
  signals: z.record(z.string(), z.number()),
});

const WorkloadView = z.object({
  namespace: z.string(),
  name: z.string(),
  kind: z.string(),
  policy: z.string(),
  mode: z.enum(["enforce", "dryRun"]),
  minReplicas: z.number().int(),
  maxReplicas: z.number().int(),
  currentReplicas: z.number().int().nullable(),
  readyReplicas: z.number().int().nullable(),
  desiredReplicas: z.number().int().nullable(),
  lastScaleTime: z.iso.datetime().nullable(),
  pods: z.object({
    known: z.number().int(),
    reporting: z.number().int(),
    notReady: z.number().int(),
    unreachable: z.number().int(),
    expired: z.number().int(),
  }),
  signals: z.record(z.string(), z.number()),
  floors: z.array(
    z.object({ replicas: z.number().int(), expiresAt: z.iso.datetime(), reason: z.string() }),
  ),
  decisions: z.array(DecisionView),
});

const Leadership = { leader: z.string().nullable(), identity: z.string() };

const workloadParams = { namespace: z.string(), name: z.string() };

const unauthorized = {
  ...problem("no valid bearer token"),
  headers: { "www-authenticate": { description: "Bearer realm", schema: z.string() } },
};

/** Kubernetes mode: no leader to pass it on to, or the API server cannot check the token now. */
const noLeader = problem(
  "not now (Kubernetes): no leader to pass it on to, or the API server did not answer",
  { retryAfter: true },
);

/** The controller's HTTP API (DESIGN.md, "Controller API"), with the schemas api.ts validates with. */
export function controllerOperations(): OperationSpec[] {
  return [
    ...kitOperations(),
    {
      method: "post",
      path: REPORTS_PATH,
      operationId: "postReport",
      summary: "an agent's report of its pod's load",
      bearer: true,
      body: Report,
      responses: {
        "202": { description: "accepted", schema: z.object({ accepted: z.literal(true) }) },
        "400": problem("not a report"),
        "401": unauthorized,
        "403": problem("this token may not report for that workload"),
        "404": problem("no ScalingPolicy targets that workload"),
        "409": problem("replayed or out-of-order seq"),
        "413": problem("the body is too large"),
        "422": problem("stale, from the future, or the wrong kind"),
        "429": problem("this pod reports too often", { retryAfter: true }),
        "503": noLeader,
      },
    },
    {
      method: "get",
      path: "/v1/workloads",
      operationId: "listWorkloads",
      summary: "every workload with its replicas, signals and last decisions",
      responses: {
        "200": {
          description: "the workloads",
          schema: z.object({ ...Leadership, workloads: z.array(WorkloadView) }),
        },
      },
    },
    {
      method: "get",
      path: "/v1/workloads/:namespace/:name",
      operationId: "getWorkload",
      summary: "one workload with its replicas, signals and last decisions",
      params: workloadParams,
      responses: {
        "200": { description: "the workload", schema: WorkloadView.extend(Leadership) },
        "404": problem("no ScalingPolicy targets that workload"),
      },
    },
    {
      method: "get",
      path: "/v1/workloads/:namespace/:name/decisions",
      operationId: "getDecisions",
      summary: "one workload's decisions, newest first, with what each policy stage proposed",
      params: workloadParams,
      query: DecisionsQuery.shape,
      responses: {
        "200": {
          description: "the decisions",
          schema: z.object({
            namespace: z.string(),
            name: z.string(),
            policy: z.string(),
            mode: z.enum(["enforce", "dryRun"]),
            decisions: z.array(DecisionView),
          }),
        },
        "400": problem("a bad limit, or an unknown query parameter"),
        "404": problem("no ScalingPolicy targets that workload"),
      },
    },
    {
      method: "get",
      path: SIGNALS_PATH,
      operationId: "getSignals",
      summary: "the fresh signals per pod and summed, of every workload (or one namespace's)",
      query: SignalsQuery.shape,
      responses: {
        "200": {
          description: "the signals",
          schema: z.object({ identity: z.string(), workloads: z.array(WorkloadSignalsView) }),
        },
        "400": problem("a bad namespace, or an unknown query parameter"),
      },
    },
    ...pageOperations(),
    {
      method: "post",
      path: "/v1/workloads/:namespace/:name/prescale",
      operationId: "prescale",
      summary: "a replica floor that expires, before a known surge",
      bearer: true,
      params: workloadParams,
      body: PrescaleBody,
      responses: {
        "202": {
          description: "the floor is set; the decision it led to",
          schema: z.object({ accepted: z.literal(true), decision: DecisionView.optional() }),
        },
        "400": problem("not a prescale request"),
        "401": unauthorized,
        "404": problem("no ScalingPolicy targets that workload"),
        "413": problem("the body is too large"),
        "422": problem("replicas above the policy's maxReplicas"),
        "503": noLeader,
      },
    },
  ];
}

/** The live page (ui/routes.ts): its files, and the event stream it follows. */
function pageOperations(): OperationSpec[] {
  const file = (path: string, operationId: string, contentType: string): OperationSpec => ({
    method: "get",
    path,
    operationId,
    summary: `the live page's ${path === "/" ? "HTML" : path.slice(4)}`,
    responses: { "200": { description: "the file", schema: z.string(), contentType } },
  });
  return [
    file("/", "page", "text/html"),
    file("/ui/page.js", "pageScript", "text/javascript"),
    file("/ui/page.css", "pageStyle", "text/css"),
    file("/ui/uPlot.js", "uPlotScript", "text/javascript"),
    file("/ui/uPlot.css", "uPlotStyle", "text/css"),
    {
      method: "get",
      path: EVENTS_PATH,
      operationId: "events",
      summary: "server-sent events: a snapshot of every workload, then each decision and sample",
      responses: {
        "200": {
          // Each event as schemathesis reads a stream: its name and its data (JSON text).
          description: "the stream, one event at a time; it does not end while the controller runs",
          schema: z.object({
            event: z.enum(["snapshot", "workload", "sample", "end"]),
            data: z.string(),
          }),
          contentType: "text/event-stream",
        },
        "503": problem("too many streams open (with Retry-After), or the controller is stopping"),
      },
    },
  ];
}

export function controllerOpenApi(version: string) {
  return openApiDocument(
    { title: "swell controller", version, description: "the sidecar scaler's shared controller" },
    controllerOperations(),
  );
}
