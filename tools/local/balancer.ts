import http from "node:http";
import type { AddressInfo } from "node:net";

/** One upstream the balancer may send to: a ready replica. */
export interface Upstream {
  id: string;
  port: number;
}

export interface Balancer {
  readonly port: number;
  add(upstream: Upstream): void;
  /** Takes an upstream out of rotation; requests already sent to it still finish. */
  remove(id: string): void;
  size(): number;
  close(): Promise<void>;
}

/**
 * A round-robin HTTP load balancer for the local stack, standing in for a Kubernetes Service.
 * A request is retried on another replica only when it could not be sent at all (connection
 * refused or reset before any response), so nothing runs twice. With no replica ready, it
 * answers 503 with Retry-After, as a Service with no endpoints would refuse the connection.
 */
export async function startBalancer(opts: {
  host: string;
  port: number;
  name: string;
}): Promise<Balancer> {
  let upstreams: Upstream[] = [];
  let next = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  const pick = (exclude: Set<string>): Upstream | undefined => {
    for (let i = 0; i < upstreams.length; i++) {
      const u = upstreams[next++ % upstreams.length];
      if (u && !exclude.has(u.id)) return u;
    }
    return undefined;
  };

  const unavailable = (res: http.ServerResponse, detail: string) => {
    if (res.headersSent) return res.destroy();
    const body = JSON.stringify({
      type: "about:blank",
      title: "Service Unavailable",
      status: 503,
      detail,
    });
    res.writeHead(503, { "content-type": "application/problem+json", "retry-after": "1" });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    // Buffer the (small) body so a request that never reached a replica can be sent again.
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const tried = new Set<string>();
      const attempt = () => {
        const u = pick(tried);
        if (!u) return unavailable(res, `no ready replica of ${opts.name}`);
        tried.add(u.id);
        const up = http.request(
          {
            host: "127.0.0.1",
            port: u.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, "x-forwarded-for": req.socket.remoteAddress ?? "" },
            agent,
          },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.on("error", (err: NodeJS.ErrnoException) => {
          // Retry only when the replica cannot have seen the request: refused, or a reused
          // keep-alive socket the replica closed just as we wrote (Node's documented race).
          const neverSent =
            err.code === "ECONNREFUSED" || (err.code === "ECONNRESET" && up.reusedSocket);
          if (neverSent && tried.size < upstreams.length) return attempt();
          unavailable(res, `replica ${u.id} failed: ${err.code ?? err.message}`);
        });
        up.end(body);
      };
      attempt();
    });
  });
  // Idle client connections are kept longer than clients keep them (undici: 4 s), as cloud load
  // balancers do (60 s): the client closes first, so it never reuses a socket we just closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // A deep accept queue, as load balancers have: at a spike's start an open-loop client opens
    // hundreds of connections at once, and past Node's default of 511 the kernel drops SYNs,
    // which clients retry after 1, 3 and 7 s (seen as seconds of latency in `npm run load`).
    server.listen({ port: opts.port, host: opts.host, backlog: 4096 }, () => resolve());
  });

  return {
    port: (server.address() as AddressInfo).port,
    add(u) {
      upstreams = [...upstreams.filter((x) => x.id !== u.id), u];
    },
    remove(id) {
      upstreams = upstreams.filter((x) => x.id !== id);
    },
    size: () => upstreams.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        agent.destroy();
      }),
  };
}
