import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import request from "supertest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createApp, parseJsonBody } from "../../../../services/kit/app.ts";
import { registerFaults } from "../../../../services/kit/faults.ts";
import { Health } from "../../../../services/kit/health.ts";
import { createLogger } from "../../../../services/kit/logger.ts";
import { createHttpMetrics, createRegistry } from "../../../../services/kit/metrics.ts";
import { problems } from "../../../../services/kit/problem.ts";

function setup() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    name: "test",
    level: "debug",
    destination: { write: (s: string) => lines.push(JSON.parse(s)) },
  });
  const registry = createRegistry();
  const metrics = createHttpMetrics(registry);
  const health = new Health();
  const app = createApp({ logger, registry, metrics, health, maxBodyBytes: 64 });
  registerFaults(app, { maxDelayMs: 200 });
  const itemSchema = z.object({ name: z.string().min(1), qty: z.number().int().positive() });
  app.post("/items", async (c) => c.json(await parseJsonBody(c, itemSchema), 201));
  app.get("/items/:id", (c) => c.json({ id: c.req.param("id") }));
  app.get("/boom", () => {
    throw new Error("secret internals: db password is hunter2");
  });
  app.get("/busy", () => {
    throw problems.tooManyRequests("queue full", 2.2);
  });
  const httpServer = http.createServer(getRequestListener(app.fetch));
  return { httpServer, server: "", lines, health, registry };
}

let ctx: ReturnType<typeof setup>;
beforeEach(async () => {
  ctx = setup();
  ctx.httpServer.listen(0, "127.0.0.1");
  await once(ctx.httpServer, "listening");
  ctx.server = `http://127.0.0.1:${(ctx.httpServer.address() as AddressInfo).port}`;
});
afterEach(() => {
  ctx.httpServer.closeAllConnections();
  ctx.httpServer.close();
});

function expectProblem(res: request.Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toBe("application/problem+json");
  expect(res.body).toMatchObject({ type: "about:blank", status });
  expect(typeof res.body.title).toBe("string");
  expect(typeof res.body.detail).toBe("string");
}

describe("health", () => {
  it("/healthz is 200 from the start", async () => {
    const res = await request(ctx.server).get("/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });

  it.each([
    ["starting", () => {}, 503],
    ["ready", (h: Health) => h.markReady(), 200],
    [
      "draining",
      (h: Health) => {
        h.markReady();
        h.markDraining();
      },
      503,
    ],
  ])("/readyz while %s", async (state, act, status) => {
    act(ctx.health);
    const res = await request(ctx.server).get("/readyz");
    expect(res.status).toBe(status);
    if (status === 503) {
      expectProblem(res, 503);
      expect(res.body.detail).toBe(`not ready: ${state}`);
    }
  });

  it("draining is final", () => {
    const h = new Health();
    h.markDraining();
    h.markReady();
    expect(h.state).toBe("draining");
  });
});

describe("errors are problem+json", () => {
  it("404 for an unknown route", async () => {
    const res = await request(ctx.server).get("/nope");
    expectProblem(res, 404);
    expect(res.body.detail).toBe("no route for GET /nope");
  });

  it.each([
    { method: "delete", path: "/items", allow: "POST" },
    { method: "post", path: "/items/7", allow: "GET, HEAD" },
    { method: "put", path: "/healthz", allow: "GET, HEAD" },
  ] as const)(
    "405 with Allow for $method $path (the path exists for other methods)",
    async ({ method, path, allow }) => {
      const res = await request(ctx.server)[method](path);
      expectProblem(res, 405);
      expect(res.headers.allow).toBe(allow);
    },
  );

  it.each(["/items/7/extra", "/healthz/"])(
    "404, not 405, for %s (no route has that shape)",
    async (path) => {
      expectProblem(await request(ctx.server).post(path), 404);
    },
  );

  it("500 without internals, logged with the error", async () => {
    const res = await request(ctx.server).get("/boom");
    expectProblem(res, 500);
    expect(JSON.stringify(res.body)).not.toContain("hunter2");
    expect(ctx.lines.some((l) => l.msg === "unhandled error" && l.level === "error")).toBe(true);
  });

  it("429 with Retry-After in whole seconds", async () => {
    const res = await request(ctx.server).get("/busy");
    expectProblem(res, 429);
    expect(res.headers["retry-after"]).toBe("3");
  });

  it("413 for a body over the limit", async () => {
    const res = await request(ctx.server)
      .post("/items")
      .set("content-type", "application/json")
      .send(JSON.stringify({ name: "x".repeat(100), qty: 1 }));
    expectProblem(res, 413);
  });

  it.each([
    ["over the limit", 100, 413],
    ["within the limit", 2, 201],
  ])("a chunked body (no content-length) %s → %i", async (_case, nameLength, status) => {
    const body = JSON.stringify({ name: "x".repeat(nameLength), qty: 1 });
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${ctx.server}/items`, {
        method: "POST",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      });
      req.on("response", (res) => {
        let text = "";
        res.on("data", (b) => (text += b));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      req.write(body.slice(0, 10));
      req.end(body.slice(10));
    });
    expect(answer.status).toBe(status);
    if (status === 413) expect(JSON.parse(answer.body).status).toBe(413);
  });

  it.each([
    ["empty body", "", "request body is empty; expected JSON"],
    ["invalid JSON", "{nope", "request body is not valid JSON"],
    ["wrong type", '{"name":"a","qty":"2"}', "qty: "],
    ["missing field", '{"qty":2}', "name: "],
    ["out of range", '{"name":"a","qty":0}', "qty: "],
  ])("400 for %s, naming the field", async (_case, body, detail) => {
    const res = await request(ctx.server)
      .post("/items")
      .set("content-type", "application/json")
      .send(body);
    expectProblem(res, 400);
    expect(res.body.detail).toContain(detail);
  });

  it("lists the offending fields in `errors`", async () => {
    const res = await request(ctx.server).post("/items").type("json").send('{"qty":-1}');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["name", "qty"]);
  });

  it("a valid body passes", async () => {
    const res = await request(ctx.server).post("/items").type("json").send('{"name":"a","qty":2}');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ name: "a", qty: 2 });
  });
});

describe("faults", () => {
  it.each([
    ["/delay/0", 200],
    ["/delay/20", 200],
    ["/delay/200", 200],
    ["/delay/201", 400],
    ["/delay/-5", 400],
    ["/delay/abc", 400],
    ["/status/200", 200],
    ["/status/204", 204],
    ["/status/418", 418],
    ["/status/503", 503],
    ["/status/199", 400],
    ["/status/600", 400],
    ["/status/abc", 400],
  ])("GET %s → %i", async (path, status) => {
    const res = await request(ctx.server).get(path);
    expect(res.status).toBe(status);
    if (status >= 400) expect(res.headers["content-type"]).toBe("application/problem+json");
  });

  it("/delay answers after the delay", async () => {
    const res = await request(ctx.server).get("/delay/50");
    expect(res.body).toEqual({ delayed_ms: 50 });
  });
});

describe("metrics and access log", () => {
  it("counts requests by route pattern, not by path", async () => {
    await request(ctx.server).get("/items/1");
    await request(ctx.server).get("/items/2");
    await request(ctx.server).get("/nope");
    const res = await request(ctx.server).get("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toContain("text/plain");
    expect(res.text).toContain('http_requests_total{method="GET",route="/items/:id",code="200"} 2');
    expect(res.text).toContain('http_requests_total{method="GET",route="unmatched",code="404"} 1');
    expect(res.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/items\/:id",code="200"\} 2/,
    );
  });

  it("the request counter moves", async () => {
    const count = async () => {
      const text = (await request(ctx.server).get("/metrics")).text;
      const m = /http_requests_total\{method="GET",route="\/healthz",code="200"\} (\d+)/.exec(text);
      return Number(m?.[1] ?? 0);
    };
    const before = await count();
    await request(ctx.server).get("/healthz");
    await request(ctx.server).get("/healthz");
    expect(await count()).toBe(before + 2);
  });

  it("keeps probes and scrapes out of the demand gauges", async () => {
    await request(ctx.server).get("/healthz");
    await request(ctx.server).get("/readyz");
    const text = (await request(ctx.server).get("/metrics")).text;
    expect(text).toMatch(/^http_requests_per_second 0$/m);
    expect(text).toMatch(/^http_requests_in_flight 0$/m);
  });

  it("counts arrivals of application requests in http_requests_per_second", async () => {
    await request(ctx.server).get("/items/1");
    const text = (await request(ctx.server).get("/metrics")).text;
    const m = /^http_requests_per_second (\S+)$/m.exec(text);
    expect(Number(m?.[1])).toBeGreaterThan(0);
  });

  it("shows a request in flight while it is served", async () => {
    const slow = request(ctx.server)
      .get("/delay/200")
      .then((r) => r);
    // Scrape while /delay/200 is being served (and retry until it has arrived).
    let seen = false;
    for (let i = 0; i < 20 && !seen; i++) {
      const text = (await request(ctx.server).get("/metrics")).text;
      seen = /^http_requests_in_flight 1$/m.test(text);
    }
    await slow;
    expect(seen).toBe(true);
  });

  it("writes one access line per request with method, route, status and duration", async () => {
    await request(ctx.server).get("/items/7");
    const access = ctx.lines.filter((l) => l.msg === "request" && l.path === "/items/7");
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: "info",
      service: "test",
      method: "GET",
      route: "/items/:id",
      status: 200,
    });
    expect(typeof access[0]?.duration_ms).toBe("number");
    expect(access[0]).not.toHaveProperty("trace_id"); // no tracing in this test
  });

  it.each([
    ["a routine path that succeeds", "/items", '{"name":"a","qty":1}', 201, "debug"],
    ["a routine path that fails", "/items", '{"qty":1}', 400, "info"],
    ["any other path", "/other", "{}", 202, "info"],
  ])("logs %s at its level", async (_case, path, body, status, level) => {
    const lines: Record<string, unknown>[] = [];
    const registry = createRegistry();
    const app = createApp({
      logger: createLogger({
        name: "test",
        level: "debug",
        destination: { write: (s: string) => lines.push(JSON.parse(s)) },
      }),
      registry,
      metrics: createHttpMetrics(registry),
      health: new Health(),
      maxBodyBytes: 1024,
      routinePaths: new Set(["/items"]),
    });
    const schema = z.object({ name: z.string(), qty: z.number() });
    app.post("/items", async (c) => c.json(await parseJsonBody(c, schema), 201));
    app.post("/other", (c) => c.json({}, 202));
    await request(http.createServer(getRequestListener(app.fetch)))
      .post(path)
      .set("content-type", "application/json")
      .send(body)
      .expect(status);
    const line = lines.find((l) => l.msg === "request" && l.path === path);
    expect(line?.level).toBe(level);
  });

  it("logs probes at debug, not info", async () => {
    await request(ctx.server).get("/healthz");
    const line = ctx.lines.find((l) => l.msg === "request" && l.path === "/healthz");
    expect(line?.level).toBe("debug");
  });
});
