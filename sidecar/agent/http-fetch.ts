import http from "node:http";
import https from "node:https";

/** The part of fetch the agent uses: one request, the whole body read into the Response. */
export type HttpFetch = (
  url: URL,
  init?: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    signal?: AbortSignal;
  },
) => Promise<Response>;

/** Statuses whose Response must not have a body (the Response constructor throws). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * fetch's shape over node:http, with keep-alive. The agent runs in every pod, and fetch
 * (undici, with its WebAssembly HTTP parser) costs RSS there that node:http, already loaded
 * for the agent's own server, does not (measured in BENCHMARKS.md, agent cost).
 */
export function httpFetch(): HttpFetch {
  // Free sockets close after 4 s: under the 5 s keep-alive timeout of a Node server, so a
  // request is not sent on a socket the server is closing.
  const agents = {
    http: new http.Agent({ keepAlive: true, timeout: 4000 }),
    https: new https.Agent({ keepAlive: true, timeout: 4000 }),
  };
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const { signal } = init;
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        reject(signal?.reason);
        request.destroy();
      };
      const secure = url.protocol === "https:";
      const request = (secure ? https : http).request(
        url,
        {
          method: init.method ?? "GET",
          headers: init.headers,
          agent: secure ? agents.https : agents.http,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            signal?.removeEventListener("abort", onAbort);
            const status = res.statusCode ?? 0;
            const headers = new Headers();
            for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
              headers.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
            }
            try {
              const body = NULL_BODY.has(status) ? null : Buffer.concat(chunks);
              resolve(new Response(body, { status, statusText: res.statusMessage, headers }));
            } catch (error) {
              reject(error); // a status outside 200–599
            }
          });
        },
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      request.on("error", (error) => {
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      });
      request.end(init.body);
    });
}
