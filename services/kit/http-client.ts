import http from "node:http";
import https from "node:https";

export interface JsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
}

/**
 * One JSON request over `node:http(s)`. Not `fetch`: the kit's HTTP instrumentation traces
 * node:http, so this call gets a client span and carries W3C trace context to the callee.
 * Rejects on network errors (e.g. ECONNREFUSED) and when `signal` aborts (timeouts).
 */
export function requestJson(
  url: URL,
  options: {
    method?: string;
    body?: unknown;
    signal?: AbortSignal;
    headers?: Record<string, string>;
  } = {},
): Promise<JsonResponse> {
  const payload =
    options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: options.method ?? (payload ? "POST" : "GET"),
        headers: {
          accept: "application/json",
          ...(payload
            ? { "content-type": "application/json", "content-length": payload.length }
            : {}),
          ...options.headers,
        },
        signal: options.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = text === "" ? undefined : JSON.parse(text);
          } catch {
            // Not JSON: hand back the text.
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
