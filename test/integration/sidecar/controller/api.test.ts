import http from "node:http";
import { Writable } from "node:stream";
import { getRequestListener } from "@hono/node-server";
import request from "supertest";
import { beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../../services/kit/logger.ts";
import { createRegistry } from "../../../../services/kit/metrics.ts";
import { sharedTokenAuth } from "../../../../sidecar/controller/auth.ts";
import { parseControllerConfig } from "../../../../sidecar/controller/config.ts";
import type { Controller } from "../../../../sidecar/controller/controller.ts";
import { singleInstance } from "../../../../sidecar/controller/leader.ts";
import { memoryBackend } from "../../../../sidecar/controller/memory-backend.ts";
import { parsePolicies } from "../../../../sidecar/controller/policies.ts";
import { buildController } from "../../../../sidecar/controller/run.ts";
import { workerPolicyYaml } from "../../../unit/sidecar/controller/fixtures.ts";

const TOKEN = "test-token-123";
const POLICY = workerPolicyYaml();

/**
 * Reports reach the controller two ways: the node:http route ahead of Hono (a lone controller,
 * or the leader) and the app's own route (what a follower's app runs after its forwarding).
 * Both must answer alike, so every case runs against each.
 */
type Route = "node:http route" | "app route";
const ROUTES: Route[] = ["node:http route", "app route"];

function setup(now: { t: number }, replicas = 1, route: Route = "node:http route") {
  const cfg = parseControllerConfig({ SWELL_TOKEN: TOKEN });
  if (!cfg.ok) throw new Error(cfg.problems.join("\n"));
  const policies = parsePolicies(POLICY, "test.yaml");
  if (!policies.ok) throw new Error(policies.problems.join("\n"));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const built = buildController({
    config: cfg.value,
    policies: policies.policies,
    backend: memoryBackend({ "default/worker": replicas }),
    leader: singleInstance("test"),
    auth: sharedTokenAuth(TOKEN),
    logger: createLogger({ name: "test", level: "info", destination: sink }),
    registry: createRegistry({ defaultMetrics: false }),
    clock: () => now.t,
  });
  built.health.markReady();
  const app = getRequestListener(built.app.fetch);
  // As the kit's listen() dispatches: the raw route first, the app for the rest.
  const served = { raw: 0 };
  const server = http.createServer((req, res) => {
    if (route === "node:http route" && built.reports(req, res)) {
      served.raw++;
      return;
    }
    void app(req, res);
  });
  return { ...built, server, logs, served };
}

const now = { t: Date.UTC(2026, 10, 22, 12) };
const valid = (over: Record<string, unknown> = {}) => ({
  workload: { namespace: "default", kind: "Deployment", name: "worker" },
  pod: { name: "worker-1", uid: "uid-1" },
  seq: 1,
  window: { start: now.t - 1000, end: now.t },
  app: "ready",
  signals: { requestRate: 35 },
  ...over,
});

/** What a refused request must not change: the pods the controller knows and their reports. */
function snapshot(controller: Controller) {
  return controller
    .workloads()
    .map((w) => ({ key: w.key, pods: [...w.pods.entries()], floors: w.floors }));
}

describe.each(ROUTES)("controller API, reports by the %s", (route) => {
  let s: ReturnType<typeof setup>;
  beforeEach(() => {
    now.t = Date.UTC(2026, 10, 22, 12);
    s = setup(now, 1, route);
  });

  it("accepts a valid report (202) and shows it in the workload view", async () => {
    await request(s.server)
      .post("/v1/reports")
      .auth(TOKEN, { type: "bearer" })
      .send(valid())
      .expect(202);
    const res = await request(s.server).get("/v1/workloads/default/worker").expect(200);
    expect(res.body.pods.known).toBe(1);
    // The report went the way this run is about; everything else always goes to the app.
    expect(s.served.raw).toBe(route === "node:http route" ? 1 : 0);
    const d = await s.controller.decideNow("default", "worker");
    expect(d?.desiredReplicas).toBe(4); // ceil(35 / 10)
  });

  const big = JSON.stringify(valid({ pod: { name: "worker-1", uid: "x".repeat(20_000) } }));
  it.each([
    { name: "no token", token: undefined, body: JSON.stringify(valid()), status: 401 },
    { name: "wrong token", token: "nope", body: JSON.stringify(valid()), status: 401 },
    { name: "malformed JSON", token: TOKEN, body: '{"seq": 1,', status: 400 },
    {
      name: "NaN literal",
      token: TOKEN,
      body: JSON.stringify(valid()).replace("35", "NaN"),
      status: 400,
    },
    {
      name: "Infinity via 1e999",
      token: TOKEN,
      body: JSON.stringify(valid()).replace("35", "1e999"),
      status: 400,
    },
    {
      name: "negative value",
      token: TOKEN,
      body: JSON.stringify(valid({ signals: { queueLength: -3 } })),
      status: 400,
    },
    { name: "wrong type", token: TOKEN, body: JSON.stringify(valid({ seq: "7" })), status: 400 },
    { name: "unknown field", token: TOKEN, body: JSON.stringify(valid({ cpu: 3 })), status: 400 },
    { name: "oversize body", token: TOKEN, body: big, status: 413 },
    {
      name: "unknown workload",
      token: TOKEN,
      body: JSON.stringify(
        valid({ workload: { namespace: "default", kind: "Deployment", name: "nope" } }),
      ),
      status: 404,
    },
    {
      name: "stale report",
      token: TOKEN,
      body: JSON.stringify(valid({ window: { start: now.t - 90_000, end: now.t - 60_000 } })),
      status: 422,
    },
  ])(
    "refuses $name with $status problem+json and changes nothing",
    async ({ token, body, status }) => {
      const before = snapshot(s.controller);
      let req = request(s.server).post("/v1/reports").set("content-type", "application/json");
      if (token) req = req.auth(token, { type: "bearer" });
      const res = await req.send(body).expect(status);
      expect(res.headers["content-type"]).toContain("application/problem+json");
      expect(res.body).toMatchObject({
        status,
        title: expect.any(String),
        detail: expect.any(String),
      });
      expect(snapshot(s.controller)).toEqual(before);
    },
  );

  it("does not read a pod that stopped reporting as zero load", async () => {
    s = setup(now, 4, route);
    const send = (uid: string, seq: number) =>
      request(s.server)
        .post("/v1/reports")
        .auth(TOKEN, { type: "bearer" })
        .send(
          valid({
            pod: { name: `worker-${uid}`, uid },
            seq,
            window: { start: now.t - 1000, end: now.t },
            signals: { requestRate: 10 },
          }),
        )
        .expect(202);
    for (const uid of ["a", "b", "c", "d"]) await send(uid, 1);
    expect((await s.controller.decideNow("default", "worker"))?.desiredReplicas).toBe(4);
    // Pods b, c and d go silent past the TTL; a still reports 10/s. Four ready replicas at
    // a's average is still 40/s: four replicas, not one.
    for (let i = 2; i <= 16; i++) {
      now.t += 1000;
      await send("a", i);
      await s.controller.decideNow("default", "worker");
    }
    const w = await request(s.server).get("/v1/workloads/default/worker").expect(200);
    console.log(JSON.stringify(w.body.pods), w.body.decisions[0].reason);
    expect(w.body.pods).toMatchObject({ reporting: 1, expired: 3 });
    expect(w.body.desiredReplicas).toBe(4);
  });

  it("does not count replicas that have not reported yet at the reporters' average", async () => {
    // Three ready replicas, two of them just started and not reporting yet; the old one reports
    // the whole 30/s it saw. That is 30/s of demand (3 replicas), not 3 × 30/s (9 replicas).
    s = setup(now, 3, route);
    for (let seq = 1; seq <= 5; seq++) {
      now.t += 1000;
      await request(s.server)
        .post("/v1/reports")
        .auth(TOKEN, { type: "bearer" })
        .send(
          valid({ seq, window: { start: now.t - 1000, end: now.t }, signals: { requestRate: 30 } }),
        )
        .expect(202);
      await s.controller.decideNow("default", "worker");
    }
    const w = await request(s.server).get("/v1/workloads/default/worker").expect(200);
    expect(w.body.desiredReplicas).toBe(3);
  });

  it("names the offending field in a 400", async () => {
    const res = await request(s.server)
      .post("/v1/reports")
      .auth(TOKEN, { type: "bearer" })
      .send(valid({ signals: { requestRate: -1 } }))
      .expect(400);
    expect(res.body.detail).toContain("signals.requestRate");
  });

  it("refuses a replayed report with 409 and keeps the first", async () => {
    const first = valid({ seq: 5 });
    await request(s.server)
      .post("/v1/reports")
      .auth(TOKEN, { type: "bearer" })
      .send(first)
      .expect(202);
    const before = snapshot(s.controller);
    now.t += 100;
    const res = await request(s.server)
      .post("/v1/reports")
      .auth(TOKEN, { type: "bearer" })
      .send(first)
      .expect(409);
    expect(res.body.status).toBe(409);
    expect(snapshot(s.controller)).toEqual(before);
  });

  it("rate-limits one pod with 429 and Retry-After", async () => {
    let seq = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) {
      now.t += 1;
      const res = await request(s.server)
        .post("/v1/reports")
        .auth(TOKEN, { type: "bearer" })
        .send(valid({ seq: ++seq, window: { start: now.t - 1000, end: now.t } }));
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    }
    expect(statuses.filter((x) => x === 202).length).toBe(40); // burst of 2 × 20/s
    expect(statuses.filter((x) => x === 429).length).toBe(5);
  });

  it("keeps a token out of every log line", async () => {
    await request(s.server)
      .post("/v1/reports")
      .auth(TOKEN, { type: "bearer" })
      .send(valid())
      .expect(202);
    await request(s.server)
      .post("/v1/reports")
      .auth("wrong-secret", { type: "bearer" })
      .send(valid())
      .expect(401);
    expect(s.logs.length).toBeGreaterThan(0);
    expect(s.logs.join("")).not.toContain(TOKEN);
    expect(s.logs.join("")).not.toContain("wrong-secret");
  });

  it("refuses a chunked body over the limit with 413 problem+json and changes nothing", async () => {
    const before = snapshot(s.controller);
    await new Promise<void>((resolve) => s.server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = s.server.address() as { port: number };
      const answer = await new Promise<{ status: number; type: string; body: string }>(
        (resolve, reject) => {
          const req = http.request(
            {
              host: "127.0.0.1",
              port,
              method: "POST",
              path: "/v1/reports",
              headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
            },
            (res) => {
              let body = "";
              res.on("data", (b) => (body += b));
              res.on("end", () =>
                resolve({
                  status: res.statusCode ?? 0,
                  type: String(res.headers["content-type"]),
                  body,
                }),
              );
            },
          );
          // No Content-Length: node sends it chunked, so its size is known only as it arrives.
          req.on("error", reject);
          req.write(JSON.stringify(valid()).slice(0, -1));
          req.write(`,"pad":"${"x".repeat(20_000)}"}`);
          req.end();
        },
      );
      expect(answer.status).toBe(413);
      expect(answer.type).toContain("application/problem+json");
      expect(JSON.parse(answer.body)).toMatchObject({ status: 413, detail: expect.any(String) });
      expect(snapshot(s.controller)).toEqual(before);
    } finally {
      s.server.closeAllConnections();
      await new Promise((resolve) => s.server.close(resolve));
    }
  });

  it("counts reports in the kit's HTTP metrics by route and code, and answers 202 as JSON", async () => {
    const ok = await request(s.server)
      .post("/v1/reports")
      .auth(TOKEN, { type: "bearer" })
      .send(valid())
      .expect(202);
    expect(ok.headers["content-type"]).toContain("application/json");
    expect(ok.body).toEqual({ accepted: true });
    await request(s.server).post("/v1/reports").send(valid()).expect(401);
    const metrics = await request(s.server).get("/metrics").expect(200);
    const line = (code: number) =>
      metrics.text
        .split("\n")
        .find(
          (l) =>
            l.startsWith("http_requests_total{") &&
            l.includes('route="/v1/reports"') &&
            l.includes(`code="${code}"`),
        );
    expect(line(202)).toMatch(/ 1$/);
    expect(line(401)).toMatch(/ 1$/);
  });

  it.each([
    {
      name: "above maxReplicas",
      body: { replicas: 11, ttlSeconds: 60, reason: "launch" },
      status: 422,
    },
    { name: "missing reason", body: { replicas: 5, ttlSeconds: 60 }, status: 400 },
    { name: "zero ttl", body: { replicas: 5, ttlSeconds: 0, reason: "x" }, status: 400 },
  ])("refuses a prescale $name", async ({ body, status }) => {
    const before = snapshot(s.controller);
    await request(s.server)
      .post("/v1/workloads/default/worker/prescale")
      .auth(TOKEN, { type: "bearer" })
      .send(body)
      .expect(status);
    expect(snapshot(s.controller)).toEqual(before);
  });

  it("applies a prescale floor at once and lets it expire", async () => {
    const res = await request(s.server)
      .post("/v1/workloads/default/worker/prescale")
      .auth(TOKEN, { type: "bearer" })
      .send({ replicas: 7, ttlSeconds: 60, reason: "launch at noon" })
      .expect(202);
    expect(res.body.decision.desiredReplicas).toBe(7);
    expect(res.body.decision.at).toBe(new Date(now.t).toISOString());
    const during = await request(s.server).get("/v1/workloads/default/worker").expect(200);
    expect(during.body.floors).toHaveLength(1);
    now.t += 61_000;
    await s.controller.decideNow("default", "worker");
    const after = await request(s.server).get("/v1/workloads/default/worker").expect(200);
    expect(after.body.floors).toEqual([]);
  });
});
