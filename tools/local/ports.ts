import net from "node:net";

/** Asks the OS for a free loopback port. Another process could take it before we bind it;
 * on one developer machine that race is rare and a failed start is retried by the pool. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() =>
        addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port")),
      );
    });
  });
}
