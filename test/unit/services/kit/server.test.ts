// The kit's HTTP server over real sockets: which answers keep their connection, and close().
import http from "node:http";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_SERVER_LIMITS,
  listen,
  type RunningServer,
  type ServerLimits,
} from "../../../../services/kit/server.ts";

/** GET / answers at once; GET /slow answers when `release` is called. */
function app(): { app: Hono; release: () => void; started: Promise<void> } {
  let release = () => {};
  let started = () => {};
  const startedP = new Promise<void>((resolve) => {
    started = resolve;
  });
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const a = new Hono();
  a.get("/", (c) => c.text("ok"));
  a.get("/slow", async (c) => {
    started();
    await gate;
    return c.text("slow");
  });
  return { app: a, release, started: startedP };
}

let servers: RunningServer[] = [];
let agents: http.Agent[] = [];
afterEach(async () => {
  for (const a of agents) a.destroy();
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  agents = [];
});

async function start(limits: Partial<ServerLimits> = {}) {
  const parts = app();
  const server = await listen(parts.app, {
    host: "127.0.0.1",
    port: 0,
    limits: { ...DEFAULT_SERVER_LIMITS, ...limits },
  });
  servers.push(server);
  // One kept-alive connection, as a client's pool keeps it.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return { ...parts, server, agent };
}

interface Answer {
  body: string;
  connection: string | undefined;
  /** The client's local port: the same port, the same connection. */
  port: number;
}

function get(server: RunningServer, agent: http.Agent, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${server.url}${path}`, { agent }, (res) => {
      const port = res.socket.localPort ?? 0;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ body, connection: res.headers.connection, port }));
    });
    req.on("error", reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("listen: kept-alive connections", () => {
  it("keeps a young connection for the next request", async () => {
    const s = await start();
    const a = await get(s.server, s.agent, "/");
    const b = await get(s.server, s.agent, "/");
    expect([a.connection, b.connection]).toEqual(["keep-alive", "keep-alive"]);
    expect(b.port).toBe(a.port);
  });

  it("ends a connection older than maxConnectionAgeMs after its next answer, and the client opens a new one", async () => {
    const s = await start({ maxConnectionAgeMs: 200 });
    const a = await get(s.server, s.agent, "/");
    await sleep(300);
    const b = await get(s.server, s.agent, "/");
    const c = await get(s.server, s.agent, "/");
    expect([a.connection, b.connection, c.connection]).toEqual([
      "keep-alive",
      "close",
      "keep-alive",
    ]);
    expect(b.port).toBe(a.port);
    expect(c.port).not.toBe(b.port);
    expect(c.body).toBe("ok");
  });

  it("with maxConnectionAgeMs 0 keeps a connection however old", async () => {
    const s = await start({ maxConnectionAgeMs: 0 });
    const a = await get(s.server, s.agent, "/");
    await sleep(300);
    const b = await get(s.server, s.agent, "/");
    expect(b.connection).toBe("keep-alive");
    expect(b.port).toBe(a.port);
  });
});

describe("listen: close()", () => {
  it("answers the request in flight with Connection: close, then resolves; idle connections go at once", async () => {
    const s = await start();
    // An idle kept-alive connection, on a second agent.
    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(idleAgent);
    await get(s.server, idleAgent, "/");
    const idleGone = new Promise<void>((resolve) => {
      for (const sockets of Object.values(idleAgent.freeSockets))
        for (const socket of sockets ?? []) socket.once("close", () => resolve());
    });

    const slow = get(s.server, s.agent, "/slow");
    await s.started;
    let closed = false;
    const closing = s.server.close().then(() => {
      closed = true;
    });
    await idleGone;
    await sleep(50);
    expect(closed, "close() waits for the request in flight").toBe(false);
    s.release();
    const answer = await slow;
    expect(answer).toMatchObject({ body: "slow", connection: "close" });
    await closing;
    expect(closed).toBe(true);
  });
});
