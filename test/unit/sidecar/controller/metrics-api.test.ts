import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../../../services/kit/metrics.ts";
import { Controller } from "../../../../sidecar/controller/controller.ts";
import { singleInstance } from "../../../../sidecar/controller/leader.ts";
import { memoryBackend } from "../../../../sidecar/controller/memory-backend.ts";
import { createControllerMetrics } from "../../../../sidecar/controller/metrics.ts";
import type { User } from "../../../../sidecar/controller/metrics-api/authn.ts";
import {
  type Attributes,
  requestAttributes,
} from "../../../../sidecar/controller/metrics-api/authz.ts";
import {
  generateServingCertificate,
  serviceNames,
  stillGood,
} from "../../../../sidecar/controller/metrics-api/certs.ts";
import { quantity } from "../../../../sidecar/controller/metrics-api/documents.ts";
import { parseLabelSelector } from "../../../../sidecar/controller/metrics-api/label-selector.ts";
import { metricsApiApp } from "../../../../sidecar/controller/metrics-api/routes.ts";
import type { ScalingPolicy } from "../../../../sidecar/protocol/policy.ts";
import { report, T0 } from "./fixtures.ts";

describe("label selectors", () => {
  const labels = { workload: "worker", kind: "Deployment" };
  it.each([
    ["", true],
    ["workload=worker", true],
    ["workload==worker", true],
    ["workload=api", false],
    ["workload!=api", true],
    ["workload in (api, worker)", true],
    ["workload notin (api,worker)", false],
    ["kind", true],
    ["!kind", false],
    ["!tier", true],
    ["workload=worker,kind=Deployment", true],
    ["workload=worker,kind=StatefulSet", false],
  ])("%j on {workload: worker, kind: Deployment} → %s", (text, want) => {
    expect(parseLabelSelector(text)?.(labels)).toBe(want);
  });
  it.each(["a=b=c", "=b", "in (a)", "a in b"])("refuses %j", (text) => {
    expect(parseLabelSelector(text)).toBeUndefined();
  });
});

describe("request attributes (the API server's RequestInfo)", () => {
  it.each<[string, Attributes | undefined]>([
    [
      "/apis/custom.metrics.k8s.io/v1beta2",
      { kind: "nonResource", path: "/apis/custom.metrics.k8s.io/v1beta2", verb: "get" },
    ],
    [
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/shop/pods/*/queueLength",
      {
        kind: "resource",
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        namespace: "shop",
        resource: "pods",
        name: "*",
        subresource: "queueLength",
        verb: "get",
      },
    ],
    [
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/queueLength",
      {
        kind: "resource",
        group: "external.metrics.k8s.io",
        version: "v1beta1",
        namespace: "shop",
        resource: "queueLength",
        verb: "list",
      },
    ],
    ["/apis/custom.metrics.k8s.io/v1beta2/namespaces/shop/pods/a/b/c", undefined],
  ])("%s", (path, want) => {
    expect(requestAttributes(path)).toEqual(want);
  });
});

describe("quantities", () => {
  it.each([
    [0, "0"],
    [12, "12"],
    [12.5, "12500m"],
    [0.0004, "0"],
    [0.0015, "2m"],
    [1e9, "1000000000"],
  ])("%d → %s", (v, want) => {
    expect(quantity(v)).toBe(want);
  });
});

const policy = (name: string): ScalingPolicy =>
  ({
    apiVersion: "scaling.swell.dev/v1alpha1",
    kind: "ScalingPolicy",
    metadata: { name, namespace: "default" },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [{ name: "requestRate", averageValue: 10 }],
    },
  }) as ScalingPolicy;

function controller(now: { t: number }, maxObservedWorkloads: number) {
  const logs = { info() {}, warn() {}, error() {} };
  return new Controller(
    [policy("worker")],
    {
      backend: memoryBackend(),
      leader: singleInstance("test"),
      metrics: createControllerMetrics(createRegistry({ defaultMetrics: false })),
      clock: () => now.t,
      log: logs,
    },
    { podTtlMs: 5000, maxObservedWorkloads },
  );
}

const forApi = (name: string, uid: string, over: Parameters<typeof report>[0] = {}) =>
  report({
    workload: { namespace: "default", kind: "Deployment", name: "api" },
    pod: { name, uid },
    ...over,
  });

describe("the controller's fresh signals view", () => {
  it("keeps reports of a workload no policy targets only when asked to, within the bound", () => {
    const now = { t: T0 };
    expect(controller(now, 0).ingest(forApi("api-1", "u1"))).toMatchObject({
      ok: false,
      status: 404,
    });
    const c = controller(now, 1);
    expect(c.ingest(forApi("api-1", "u1"))).toEqual({ ok: true });
    const other = report({ workload: { namespace: "default", kind: "Deployment", name: "third" } });
    expect(c.ingest(other)).toMatchObject({ ok: false, status: 404 });
    // Never decided on: it is not a workload the controller scales.
    expect(c.workloads().map((w) => w.key)).toEqual(["default/worker"]);
    const kind = forApi("api-1", "u1", {
      seq: 2,
      workload: { namespace: "default", kind: "StatefulSet", name: "api" },
    });
    expect(c.ingest(kind)).toMatchObject({ ok: false, status: 422 });
  });

  it("serves per pod and summed, fresh and ready only: stale or not-ready values are absent", () => {
    const now = { t: T0 };
    const c = controller(now, 10);
    c.ingest(report({ pod: { name: "worker-1", uid: "w1" }, signals: { queueLength: 4 } }));
    c.ingest(forApi("api-1", "a1", { signals: { requestRate: 30 } }));
    c.ingest(forApi("api-2", "a2", { signals: { requestRate: 12 } }));
    c.ingest(forApi("api-3", "a3", { app: "notReady", signals: { requestRate: 99 } }));
    now.t = T0 + 3000;
    c.ingest(
      forApi("api-2", "a2", {
        seq: 2,
        window: { start: T0 + 2000, end: T0 + 3000 },
        signals: { requestRate: 14 },
      }),
    );
    const view = (at: number) => {
      now.t = at;
      return Object.fromEntries(
        c
          .signals("default")
          .map((w) => [
            w.name,
            { policy: w.policy, sum: w.signals, pods: w.pods.map((p) => [p.name, p.signals]) },
          ]),
      );
    };
    expect(view(T0 + 4000)).toEqual({
      worker: { policy: true, sum: { queueLength: 4 }, pods: [["worker-1", { queueLength: 4 }]] },
      api: {
        policy: false,
        sum: { requestRate: 44 },
        pods: [
          ["api-1", { requestRate: 30 }],
          ["api-2", { requestRate: 14 }],
        ],
      },
    });
    // 5 s after the first reports only api-2's newer one is fresh.
    expect(view(T0 + 6000)).toEqual({
      worker: { policy: true, sum: {}, pods: [] },
      api: { policy: false, sum: { requestRate: 14 }, pods: [["api-2", { requestRate: 14 }]] },
    });
    expect(c.signals("other")).toEqual([]);
  });
});

describe("metrics API routes (stand-in authenticator and authorizer; the cluster test uses the real ones)", () => {
  const user: User = {
    name: "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
    groups: [],
    extra: {},
  };
  const now = { t: T0 };
  const c = controller(now, 10);
  c.ingest(forApi("api-1", "a1", { signals: { requestRate: 30, queueLength: 1 } }));
  c.ingest(forApi("api-2", "a2", { signals: { requestRate: 12.5 } }));
  const asked: Attributes[] = [];
  const app = (who: User | undefined, allow = true) =>
    metricsApiApp({
      signals: async (ns) => c.signals(ns),
      podsMatching: async (_ns, selector) =>
        new Set(selector === "app=api" ? ["api-1", "api-2"] : ["api-1"]),
      authenticate: () => who,
      authorize: async (_u, attrs) => {
        asked.push(attrs);
        return allow;
      },
      log: { warn() {} },
    });
  const get = async (path: string, a = app(user)) => {
    const res = await a.request(path, {}, { incoming: {} as IncomingMessage });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { items?: Record<string, unknown>[] },
    };
  };
  const base = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default";

  it.each([
    [`${base}/pods/*/requestRate?labelSelector=app%3Dapi`, ["30", "12500m"]],
    [`${base}/pods/*/requestRate?labelSelector=app%3Done`, ["30"]],
    [`${base}/pods/*/queueLength`, ["1"]],
    [`${base}/pods/api-2/requestRate`, ["12500m"]],
    [`${base}/deployments.apps/api/requestRate`, ["42500m"]],
    [`${base}/pods/*/requestRate?metricLabelSelector=tier%3Dweb`, []],
    [
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/requestRate?labelSelector=workload%3Dapi",
      ["42500m"],
    ],
    [
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/requestRate?labelSelector=workload%3Dworker",
      [],
    ],
  ])("%s → %j", async (path, values) => {
    now.t = T0 + 1000;
    const r = await get(path);
    expect(r.status).toBe(200);
    expect(r.body.items?.map((i) => i.value)).toEqual(values);
  });

  it.each([
    [`${base}/pods/*/cpu`, 404],
    [`${base}/pods/api-9/requestRate`, 404],
    [`${base}/deployments.apps/nope/requestRate`, 404],
    [`${base}/jobs.batch/api/requestRate`, 404],
    ["/apis/custom.metrics.k8s.io/v1alpha1", 404],
    ["/apis", 404],
    ["/discovery/v2", 404],
    [`${base}/deployments.apps/api/requestRate?labelSelector=a%3Db`, 400],
    [
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/requestRate?labelSelector=a%3Db%3Dc",
      400,
    ],
  ])("%s → Status %d", async (path, code) => {
    const r = await get(path);
    expect(r.status).toBe(code);
    expect(r.body).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", code });
  });

  it("answers 401 to nobody and 403 to whom RBAC refuses, asking with the request's attributes", async () => {
    expect((await get(`${base}/pods/*/requestRate`, app(undefined))).status).toBe(401);
    asked.length = 0;
    const refused = await get(`${base}/pods/*/requestRate`, app(user, false));
    expect(refused.status).toBe(403);
    expect(refused.body.reason).toBe("Forbidden");
    expect(asked).toEqual([
      expect.objectContaining({ resource: "pods", name: "*", subresource: "requestRate" }),
    ]);
  });

  it("answers 404 for what it does not serve without asking RBAC (the aggregator's discovery probe)", async () => {
    asked.length = 0;
    for (const path of ["/apis", "/discovery/v2", "/openapi/v2"]) {
      expect((await get(path, app(user, false))).status).toBe(404);
    }
    expect(asked).toEqual([]);
  });

  it("lists every signal for pods and the scaled kinds in discovery", async () => {
    const r = await get("/apis/custom.metrics.k8s.io/v1beta1");
    const names = (r.body.resources as { name: string }[]).map((x) => x.name);
    expect(names).toContain("pods/queueLength");
    expect(names).toContain("statefulsets.apps/requestRate");
    expect(r.body.groupVersion).toBe("custom.metrics.k8s.io/v1beta1");
  });
});

describe("serving certificate", () => {
  it("is signed by its CA for the Service's names, and a TLS client trusting the CA connects", async () => {
    const names = serviceNames("swell-controller-metrics", "swell");
    const made = generateServingCertificate(names);
    expect(stillGood(made, names)).toBe(true);
    expect(stillGood(made, serviceNames("other", "swell"))).toBe(false);
    expect(new X509Certificate(made.cert).ca).toBe(false);
    const server = createServer({ cert: made.cert, key: made.key }, (_req, res) => res.end("ok"));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port,
            servername: "swell-controller-metrics.swell.svc",
            ca: made.ca,
          },
          (res) => {
            let text = "";
            res.on("data", (chunk) => {
              text += chunk;
            });
            res.on("end", () => resolve(text));
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(body).toBe("ok");
    } finally {
      server.close();
    }
  });
});
