import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { HttpProblem } from "../../../services/kit/problem.ts";
import type { Controller } from "../controller.ts";
import type { LiveEvent, LiveFeed } from "./feed.ts";

export const EVENTS_PATH = "/v1/events";

export interface LivePageDeps {
  controller: Controller;
  feed: LiveFeed;
  /** Open event streams at most; one more is refused with 503 (each costs a socket and memory). */
  maxStreams: number;
  /** A comment line this often keeps proxies (kubectl port-forward, load balancers) from idling out. */
  keepAliveMs: number;
  /** Events queued for a stream that does not keep up; past it the stream is closed (the page reconnects). */
  maxQueued: number;
}

interface Asset {
  body: Buffer;
  type: string;
}

// Read once at start: a handful of small files (the page, its script and style, and uPlot),
// served from memory with no build step. In dist/ the build copies static/ beside this file.
function loadAssets(): Map<string, Asset> {
  const local = (file: string) => new URL(`./static/${file}`, import.meta.url);
  const dep = createRequire(import.meta.url);
  const files: [string, string | URL, string][] = [
    ["/", local("index.html"), "text/html; charset=utf-8"],
    ["/ui/page.js", local("page.js"), "text/javascript; charset=utf-8"],
    ["/ui/page.css", local("page.css"), "text/css; charset=utf-8"],
    ["/ui/uPlot.js", dep.resolve("uplot/dist/uPlot.iife.min.js"), "text/javascript; charset=utf-8"],
    ["/ui/uPlot.css", dep.resolve("uplot/dist/uPlot.min.css"), "text/css; charset=utf-8"],
  ];
  return new Map(files.map(([path, file, type]) => [path, { body: readFileSync(file), type }]));
}

/**
 * The live page at `/`: per workload, charts of replicas, each signal against its target and the
 * queue, and the decisions with their reasons, kept current over server-sent events from
 * `GET /v1/events`. Works offline: everything it loads comes from this server.
 */
export function registerLivePage(app: Hono, deps: LivePageDeps): void {
  const assets = loadAssets();
  for (const [path, asset] of assets) {
    app.get(path, (c) =>
      c.body(new Uint8Array(asset.body), 200, {
        "content-type": asset.type,
        // Same version as the controller that serves it; revalidate so an upgrade shows at once.
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
        // Nothing from elsewhere, ever: scripts, styles and the event stream are this server's
        // (uPlot sizes its elements with inline styles).
        "content-security-policy":
          "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
      }),
    );
  }

  app.get(EVENTS_PATH, (c) => {
    if (deps.feed.ended) throw new HttpProblem(503, "the controller is stopping");
    if (deps.feed.listeners >= deps.maxStreams) {
      throw new HttpProblem(503, `${deps.maxStreams} event streams are open already`, {
        headers: { "retry-after": "5" },
      });
    }
    return streamSSE(c, async (stream) => {
      const queue: LiveEvent[] = [];
      let wake: (() => void) | undefined;
      let done = false;
      const finish = () => {
        done = true;
        wake?.();
      };
      const { workloads, samples, unsubscribe } = deps.feed.subscribe(
        deps.controller.workloads(),
        (event) => {
          if (queue.length >= deps.maxQueued) finish();
          else queue.push(event);
          wake?.();
        },
      );
      stream.onAbort(finish);
      const keepAlive = setInterval(() => {
        void stream.write(": keep-alive\n\n").catch(finish);
      }, deps.keepAliveMs);
      try {
        await stream.writeSSE({
          event: "snapshot",
          data: JSON.stringify({
            leader: deps.controller.leader.leader() ?? null,
            identity: deps.controller.leader.identity,
            workloads,
            samples,
          }),
        });
        while (!done) {
          const event = queue.shift();
          if (!event) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          if (event.type === "end") {
            await stream.writeSSE({ event: "end", data: "{}" });
            break;
          }
          await stream.writeSSE({ event: event.type, data: JSON.stringify(event.data) });
        }
      } finally {
        clearInterval(keepAlive);
        unsubscribe();
      }
    });
  });
}
