// httpFetch against a real node:http server on loopback: what the agent's scrapes and reports
// rely on (status, headers, body, keep-alive, timeouts and refused connections as reasons).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchErrorReason } from "../../../../sidecar/agent/fetch-error.ts";
import { httpFetch } from "../../../../sidecar/agent/http-fetch.ts";

let server: http.Server;
let base: string;
const sockets = new Set<unknown>();
const request = httpFetch();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    sockets.add(req.socket);
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      if (req.url === "/slow") return void setTimeout(() => res.end("late"), 2000);
      if (req.url === "/empty") return void res.writeHead(204).end();
      res.writeHead(req.url === "/busy" ? 429 : 200, {
        "content-type": "text/plain",
        "retry-after": "3",
        "set-cookie": ["a=1", "b=2"],
      });
      res.end(`${req.method} ${req.headers.authorization ?? "-"} ${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("httpFetch", () => {
  it.each([
    ["GET", "/", undefined, 200, "GET - "],
    ["POST", "/", '{"seq":1}', 200, 'POST Bearer t {"seq":1}'],
    ["POST", "/busy", "x", 429, "POST Bearer t x"],
  ])("%s %s → status, headers and body", async (method, path, body, status, text) => {
    const res = await request(new URL(path, base), {
      method,
      body,
      headers: body ? { authorization: "Bearer t" } : {},
    });
    expect(res.status).toBe(status);
    expect(res.ok).toBe(status < 300);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(await res.text()).toBe(text);
  });

  it("a 204 has an empty body", async () => {
    const res = await request(new URL("/empty", base));
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
  });

  it("keeps the connection alive between requests", async () => {
    sockets.clear();
    for (let i = 0; i < 5; i++) await (await request(new URL("/", base))).text();
    expect(sockets.size).toBe(1);
  });

  it("a timeout rejects at once and reads as timeout", async () => {
    const started = performance.now();
    const error = await request(new URL("/slow", base), {
      signal: AbortSignal.timeout(100),
    }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(fetchErrorReason(error)).toEqual({ timeout: true, reason: "timeout" });
  });

  it("an already aborted signal sends nothing", async () => {
    const before = sockets.size;
    const error = await request(new URL("/", base), { signal: AbortSignal.abort() }).catch(
      (e: unknown) => e,
    );
    expect(fetchErrorReason(error).timeout).toBe(true);
    expect(sockets.size).toBe(before);
  });

  it("a refused connection reads as ECONNREFUSED", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await request(new URL(`http://127.0.0.1:${port}/`)).catch((e: unknown) => e);
    expect(fetchErrorReason(error)).toEqual({ timeout: false, reason: "ECONNREFUSED" });
  });
});
