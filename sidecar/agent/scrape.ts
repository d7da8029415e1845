import type { Snapshot } from "./derive.ts";
import { type Exposition, parseExposition } from "./exposition.ts";
import { fetchErrorReason } from "./fetch-error.ts";
import type { HttpFetch } from "./http-fetch.ts";

/** Why a scrape could not read the app's metrics, in a word fit for a label. */
export type ScrapeFailure = "timeout" | "connection" | "status" | "parse";

export type ScrapeResult =
  | { app: "ready" | "notReady"; snapshot: Snapshot }
  | { app: "unreachable"; failure: ScrapeFailure; detail: string; at: number };

export interface ScrapeOptions {
  metricsUrl: URL;
  /** Readiness URL; undefined: the app counts as ready whenever its metrics answer. */
  readyUrl: URL | undefined;
  timeoutMs: number;
  /** How requests are made: httpFetch() in the agent. */
  fetch: HttpFetch;
  now?: () => number;
}

type Failed = { failure: ScrapeFailure; detail: string };

/**
 * Reads the app's metrics and readiness at once, both bounded by the timeout. Metrics that
 * cannot be read make the app "unreachable" (its load is unknown, not zero); metrics read with
 * the readiness URL not answering 2xx make it "notReady", with its signals still reported.
 */
export function scraper(options: ScrapeOptions): (signal: AbortSignal) => Promise<ScrapeResult> {
  const doFetch = options.fetch;
  const now = options.now ?? Date.now;
  return async (signal) => {
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]);
    const [metrics, ready] = await Promise.all([
      readMetrics(doFetch, options.metricsUrl, bounded),
      options.readyUrl ? isReady(doFetch, options.readyUrl, bounded) : Promise.resolve(true),
    ]);
    const at = now();
    if ("failure" in metrics) return { app: "unreachable", ...metrics, at };
    return { app: ready ? "ready" : "notReady", snapshot: { at, metrics: metrics.exposition } };
  };
}

async function readMetrics(
  doFetch: HttpFetch,
  url: URL,
  signal: AbortSignal,
): Promise<{ exposition: Exposition } | Failed> {
  let text: string;
  try {
    const response = await doFetch(url, { signal, headers: { accept: "text/plain" } });
    text = await response.text();
    if (!response.ok) return { failure: "status", detail: `metrics answered ${response.status}` };
  } catch (error) {
    const { timeout, reason } = fetchErrorReason(error);
    return { failure: timeout ? "timeout" : "connection", detail: reason };
  }
  try {
    return { exposition: parseExposition(text) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { failure: "parse", detail: `metrics unparsable: ${message.slice(0, 200)}` };
  }
}

async function isReady(doFetch: HttpFetch, url: URL, signal: AbortSignal): Promise<boolean> {
  try {
    const response = await doFetch(url, { signal });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
