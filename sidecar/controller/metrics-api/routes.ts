import type { IncomingMessage } from "node:http";
import { Hono } from "hono";
import type { WorkloadSignals } from "../signals-view.ts";
import type { User } from "./authn.ts";
import { type Authorizer, requestAttributes } from "./authz.ts";
import {
  CUSTOM_GROUP,
  CUSTOM_VERSIONS,
  type CustomVersion,
  EXTERNAL_GROUP,
  externalValueList,
  isSignal,
  metricValueList,
  OBJECT_RESOURCES,
  resourceList,
  type Sample,
  type StatusReason,
  status,
} from "./documents.ts";
import { parseLabelSelector } from "./label-selector.ts";

export interface MetricsApiDeps {
  /** The fresh signals of a namespace's workloads: this replica's when it leads, else the leader's. */
  signals: (namespace: string) => Promise<WorkloadSignals[]>;
  /** Names of the pods a label selector picks in a namespace (asked of the API server). */
  podsMatching: (namespace: string, labelSelector: string) => Promise<Set<string>>;
  authenticate: (req: IncomingMessage) => User | undefined;
  authorize: Authorizer;
  log: { warn(obj: object, msg: string): void };
}

type Env = { Bindings: { incoming: IncomingMessage } };

const seg = "[^/]+";
/** The paths this server answers (the routes below); anything else is 404. */
const SERVED = [
  new RegExp(`^/apis/${CUSTOM_GROUP}/${seg}$`),
  new RegExp(`^/apis/${CUSTOM_GROUP}/${seg}/namespaces/${seg}/${seg}/${seg}/${seg}$`),
  new RegExp(`^/apis/${EXTERNAL_GROUP}/v1beta1$`),
  new RegExp(`^/apis/${EXTERNAL_GROUP}/v1beta1/namespaces/${seg}/${seg}$`),
];

/** A failed request, answered with a Kubernetes Status (what API clients and the HPA read). */
export class StatusError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  constructor(code: number, reason: StatusReason, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

const notFound = (message: string) => new StatusError(404, "NotFound", message);
const badRequest = (message: string) => new StatusError(400, "BadRequest", message);

/**
 * custom.metrics.k8s.io (v1beta2, v1beta1) and external.metrics.k8s.io (v1beta1), served from
 * swell's fresh signals behind delegated authentication and authorization. A value older than
 * the pod TTL, or of a pod not ready, is absent, never 0.
 */
export function metricsApiApp(deps: MetricsApiDeps): Hono<Env> {
  const app = new Hono<Env>();

  app.onError((err, c) => {
    if (err instanceof StatusError)
      return c.json(status(err.code, err.reason, err.message), err.code as 400);
    deps.log.warn({ err: err.message, path: c.req.path }, "metrics API request failed");
    return c.json(status(503, "ServiceUnavailable", err.message), 503);
  });
  app.notFound((c) =>
    c.json(status(404, "NotFound", `the server could not find ${c.req.path}`), 404),
  );

  app.use(async (c, next) => {
    const user = deps.authenticate(c.env.incoming);
    if (!user) throw new StatusError(401, "Unauthorized", "Unauthorized");
    const attrs = requestAttributes(c.req.path);
    // What is not served here is 404 without asking RBAC: the aggregator probes for aggregated
    // discovery (and falls back to the per-version list only on a 404, not on a 403).
    if (!attrs || !SERVED.some((r) => r.test(c.req.path))) {
      throw notFound(`the server could not find ${c.req.path}`);
    }
    if (!(await deps.authorize(user, attrs))) {
      throw new StatusError(403, "Forbidden", `user "${user.name}" may not get ${c.req.path}`);
    }
    await next();
  });

  const customVersion = (v: string): CustomVersion => {
    if (!(CUSTOM_VERSIONS as readonly string[]).includes(v)) {
      throw notFound(`the server could not find ${CUSTOM_GROUP}/${v}`);
    }
    return v as CustomVersion;
  };
  const signal = (metric: string) => {
    if (!isSignal(metric)) throw notFound(`the server could not find the metric ${metric}`);
    return metric;
  };
  const selector = (text: string | undefined, what: string) => {
    const s = parseLabelSelector(text);
    if (!s) throw badRequest(`${what}: cannot parse "${text}"`);
    return s;
  };

  app.get(`/apis/${CUSTOM_GROUP}/:version`, (c) =>
    c.json(resourceList(CUSTOM_GROUP, customVersion(c.req.param("version")))),
  );
  app.get(`/apis/${EXTERNAL_GROUP}/v1beta1`, (c) =>
    c.json(resourceList(EXTERNAL_GROUP, "v1beta1")),
  );

  app.get(
    `/apis/${CUSTOM_GROUP}/:version/namespaces/:namespace/:resource/:name/:metric`,
    async (c) => {
      const { namespace, resource, name } = c.req.param();
      const version = customVersion(c.req.param("version"));
      const metric = signal(c.req.param("metric"));
      // swell's metrics carry no labels: a metric selector either matches them all or none.
      const metricSelector = selector(c.req.query("metricLabelSelector"), "metricLabelSelector");
      const workloads = await deps.signals(namespace);
      let samples: Sample[];
      if (resource === "pods") {
        let pods = workloads.flatMap((w) => w.pods);
        if (name !== "*") {
          pods = pods.filter((p) => p.name === name);
          if (!pods.some((p) => p.signals[metric] !== undefined)) {
            throw notFound(`no fresh ${metric} for pod ${namespace}/${name}`);
          }
        } else {
          const labelSelector = c.req.query("labelSelector");
          if (labelSelector) {
            const names = await deps.podsMatching(namespace, labelSelector);
            pods = pods.filter((p) => names.has(p.name));
          }
        }
        samples = pods.flatMap((p) => {
          const value = p.signals[metric];
          if (value === undefined) return [];
          const object = { kind: "Pod", namespace, name: p.name, apiVersion: "/v1" };
          return [{ object, at: p.at, windowMs: p.windowMs, value }];
        });
      } else {
        const kind = OBJECT_RESOURCES[resource];
        if (!kind) throw notFound(`the server could not find the metric ${metric} for ${resource}`);
        if (c.req.query("labelSelector"))
          throw badRequest(`labelSelector is for pods, not ${resource}`);
        const group = resource.slice(resource.indexOf(".") + 1);
        samples = workloads
          .filter((w) => w.kind === kind && (name === "*" || w.name === name))
          .flatMap((w) => {
            const value = w.signals[metric];
            if (value === undefined || w.pods.length === 0) return [];
            const object = { kind, namespace, name: w.name, apiVersion: `${group}/v1` };
            // The sum is as old as its oldest part.
            const at = Math.min(...w.pods.map((p) => p.at));
            const windowMs = Math.max(...w.pods.map((p) => p.windowMs));
            return [{ object, at, windowMs, value }];
          });
        if (name !== "*" && samples.length === 0) {
          throw notFound(`no fresh ${metric} for ${resource} ${namespace}/${name}`);
        }
      }
      if (!metricSelector({})) samples = [];
      return c.json(metricValueList(version, metric, samples));
    },
  );

  app.get(`/apis/${EXTERNAL_GROUP}/v1beta1/namespaces/:namespace/:metric`, async (c) => {
    const namespace = c.req.param("namespace");
    const metric = signal(c.req.param("metric"));
    const match = selector(c.req.query("labelSelector"), "labelSelector");
    const items = (await deps.signals(namespace)).flatMap((w) => {
      const value = w.signals[metric];
      const labels = { workload: w.name, kind: w.kind };
      if (value === undefined || w.pods.length === 0 || !match(labels)) return [];
      const at = Math.min(...w.pods.map((p) => p.at));
      const windowMs = Math.max(...w.pods.map((p) => p.windowMs));
      return [{ labels, at, windowMs, value }];
    });
    return c.json(externalValueList(metric, items));
  });

  return app;
}
