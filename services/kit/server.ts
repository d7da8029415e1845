import { once } from "node:events";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { getRequestListener } from "@hono/node-server";

/** Anything with a fetch handler: a Hono app. */
export interface FetchApp {
  fetch: (request: Request, ...rest: never[]) => Response | Promise<Response>;
}

export interface RunningServer {
  readonly server: http.Server;
  readonly host: string;
  /** The bound port (the real one when asked for port 0). */
  readonly port: number;
  /** `http://host:port`, for logs and tests. */
  readonly url: string;
  /**
   * Stops accepting connections and resolves once every open connection has ended: idle
   * keep-alive ones are closed now, busy ones after their response.
   */
  close(): Promise<void>;
  /** Drops every connection at once (the shutdown deadline passed). */
  closeAllConnections(): void;
}

/** What one client can hold of a server; docs/reliability.md has the measured effect of each. */
export interface ServerLimits {
  /** Headers must arrive within this (Node answers 408 and closes otherwise). */
  headersTimeoutMs: number;
  /** The whole request must arrive within this. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Request line plus headers; larger answers 431. */
  maxHeaderBytes: number;
  /** Connections beyond this are closed as they arrive. */
  maxConnections: number;
  /**
   * A keep-alive connection older than this is closed after its next response (0: never), so
   * clients that keep their connections spread onto pods added since (kube-proxy balances
   * connections, not requests).
   */
  maxConnectionAgeMs: number;
}

/** The limits of `httpServerEnv`'s defaults. */
export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5000,
  maxHeaderBytes: 16_384,
  maxConnections: 10_000,
  maxConnectionAgeMs: 15_000,
};

const OPENED = Symbol("opened");
/** The response a connection is busy with, so close() can tell it to end the connection. */
const CURRENT = Symbol("current response");
type Tracked = Socket & { [OPENED]?: number; [CURRENT]?: http.ServerResponse };

/** Serves `app` on host:port; rejects when the port cannot be bound (e.g. EADDRINUSE). */
export async function listen(
  app: FetchApp,
  options: {
    host: string;
    port: number;
    limits?: ServerLimits;
    /**
     * A node:http handler tried before the app, for a route too hot for a web Request and
     * Response per call (the controller's reports); it returns true when it took the request.
     */
    before?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  },
): Promise<RunningServer> {
  const handle = getRequestListener(app.fetch as never);
  // Per connection, not per request: a Set entry and a listener per request cost the hot path
  // a measurable share of its time in GC.
  const sockets = new Set<Tracked>();
  let closing: Promise<void> | undefined;
  const limits = options.limits ?? DEFAULT_SERVER_LIMITS;
  const maxAge = limits.maxConnectionAgeMs;
  const before = options.before;
  // Node checks the two timeouts on a sweep of every connection; its default sweep (30 s)
  // would let a slow client hold on far past them. Node also wants headers ≤ request.
  const requestTimeout = limits.requestTimeoutMs;
  const headersTimeout = Math.min(limits.headersTimeoutMs, requestTimeout);
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 4)),
    },
    (req, res) => {
      const socket = req.socket as Tracked;
      // While closing, or once the connection is old, answer with `Connection: close` so
      // keep-alive clients let go of it.
      if (closing || (maxAge > 0 && performance.now() - (socket[OPENED] ?? 0) > maxAge)) {
        res.shouldKeepAlive = false;
      }
      socket[CURRENT] = res;
      if (before?.(req, res)) return;
      void handle(req, res);
    },
  );
  server.on("connection", (socket: Tracked) => {
    sockets.add(socket);
    socket[OPENED] = performance.now();
    socket.once("close", () => sockets.delete(socket));
  });
  server.maxConnections = limits.maxConnections;
  server.listen(options.port, options.host);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const urlHost = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    server,
    host: options.host,
    port,
    url: `http://${urlHost}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        const idle = () => server.closeIdleConnections();
        for (const socket of sockets) {
          const res = socket[CURRENT];
          if (!res || res.writableFinished) continue;
          // Not answered yet: the answer says `Connection: close`. Answering: the connection
          // is idle once it is sent, and closed then.
          if (!res.headersSent) res.shouldKeepAlive = false;
          else res.once("finish", () => setImmediate(idle));
        }
      });
      return closing;
    },
    closeAllConnections: () => server.closeAllConnections(),
  };
}
