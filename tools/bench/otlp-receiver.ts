import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface OtlpReceiver {
  url: string;
  /** Export requests received so far (each carries a batch of spans). */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * A tiny OTLP/HTTP receiver on loopback: reads each export request and answers 200 with an
 * empty success body, as a collector would. It keeps nothing: the benchmark measures what
 * exporting costs the service, not a collector.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requests++;
      const json = (req.headers["content-type"] ?? "").includes("json");
      res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
      res.end(json ? "{}" : undefined);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
