import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../../../services/api/worker-client.ts";
import { requestJson } from "../../../../services/kit/http-client.ts";
import { HttpProblem } from "../../../../services/kit/problem.ts";

/** A real HTTP server standing in for the worker, answering what each test asks for. */
let answer: (res: http.ServerResponse) => void = () => {};
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => answer(res));
});
let url: URL;
beforeAll(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const submit = (target = url, timeoutMs = 2000) =>
  submitJob(requestJson, target, { costMs: 1 }, AbortSignal.timeout(timeoutMs));

async function problemOf(p: Promise<unknown>): Promise<HttpProblem> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(HttpProblem);
  return err as HttpProblem;
}

describe("submitJob maps the worker's answers", () => {
  it("202 → the job id", async () => {
    answer = (res) => res.writeHead(202, { "content-type": "application/json" }).end('{"id":"j1"}');
    expect(await submit()).toEqual({ id: "j1" });
  });

  it.each([
    [429, { "retry-after": "7" }, 429, "7"],
    [503, {}, 503, "1"],
    [500, {}, 502, undefined],
    [400, {}, 502, undefined],
  ])("worker %i → api %i", async (status, headers, expected, retryAfter) => {
    answer = (res) => res.writeHead(status, headers).end("{}");
    const problem = await problemOf(submit());
    expect(problem.status).toBe(expected);
    expect(problem.headers["retry-after"]).toBe(retryAfter);
  });

  it("a worker that does not answer in time → 503", async () => {
    answer = () => {}; // never answers
    const problem = await problemOf(submit(url, 200));
    expect(problem.status).toBe(503);
    expect(problem.detail).toContain("did not answer in time");
  });

  it("an unreachable worker → 503 naming the cause", async () => {
    const closed = http.createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const problem = await problemOf(submit(new URL(`http://127.0.0.1:${port}`)));
    expect(problem.status).toBe(503);
    expect(problem.detail).toContain("ECONNREFUSED");
  });
});
