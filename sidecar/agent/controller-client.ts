import { MAX_REPORT_BYTES, REPORTS_PATH, type Report } from "../protocol/report.ts";
import { parseRetryAfter } from "./backoff.ts";
import { fetchErrorReason } from "./fetch-error.ts";
import type { HttpFetch } from "./http-fetch.ts";
import type { Post, PostOutcome } from "./sender.ts";
import type { TokenSource } from "./token.ts";

export interface ControllerClientOptions {
  /** The controller's base URL; a path prefix is kept (`http://h/swell` → `http://h/swell/v1/reports`). */
  baseUrl: URL;
  timeoutMs: number;
  token: TokenSource;
  /** How requests are made: httpFetch() in the agent. */
  fetch: HttpFetch;
  now?: () => number;
}

export function reportsUrl(baseUrl: URL): URL {
  const url = new URL(baseUrl);
  url.pathname = url.pathname.replace(/\/+$/, "") + REPORTS_PATH;
  url.search = "";
  return url;
}

/**
 * POSTs one report. 2xx: accepted. Connection errors, timeouts, 408, 429 and 5xx: retry (with
 * Retry-After when given). 401: retry after re-reading the token, which may have rotated.
 * Any other 4xx: refused, with the problem's detail; sending the same report again cannot help.
 */
export function controllerClient(options: ControllerClientOptions): Post {
  const url = reportsUrl(options.baseUrl);
  const doFetch = options.fetch;
  const now = options.now ?? Date.now;
  return async (report: Report, signal: AbortSignal): Promise<PostOutcome> => {
    const body = JSON.stringify(report);
    if (Buffer.byteLength(body) > MAX_REPORT_BYTES) {
      return { kind: "refused", status: 413, reason: `report is over ${MAX_REPORT_BYTES} bytes` };
    }
    const headers: Record<string, string> = { "content-type": "application/json" };
    const token = await options.token.get();
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await doFetch(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
      });
    } catch (error) {
      return { kind: "retry", reason: fetchErrorReason(error).reason };
    }
    const text = await response.text().catch(() => "");
    const status = response.status;
    if (status >= 200 && status < 300) return { kind: "accepted", status };
    const reason = `${status} ${problemDetail(text)}`.trim();
    if (status === 401) {
      options.token.invalidate();
      return { kind: "retry", status, reason };
    }
    if (status === 408 || status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), now());
      return retryAfterMs === undefined
        ? { kind: "retry", status, reason }
        : { kind: "retry", status, reason, retryAfterMs };
    }
    return { kind: "refused", status, reason };
  };
}

/** The problem+json title/detail, short, for a log line; never the request (it has the token). */
function problemDetail(text: string): string {
  try {
    const problem = JSON.parse(text) as { title?: unknown; detail?: unknown };
    const parts = [problem.title, problem.detail].filter((p) => typeof p === "string");
    return parts.join(": ").slice(0, 300);
  } catch {
    return text.slice(0, 120);
  }
}
