import { execFile } from "node:child_process";
import { request } from "node:https";
import { createServer, type Server } from "node:net";
import { promisify } from "node:util";

/**
 * n distinct TCP ports on 127.0.0.1 that were free a moment ago: the kernel picks them, and all
 * are held open until the last is picked, so no two are the same.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.on("error", reject);
          server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            if (address && typeof address === "object") resolve(address.port);
            else reject(new Error("no port"));
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export interface TlsClient {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** For the components' self-signed health endpoints, whose certificate is not ours. */
  insecure?: boolean;
}

/** GET over https; resolves with status and body, rejects on a connection error or timeout. */
export function httpsGet(
  url: string,
  tls: TlsClient,
  timeoutMs = 5_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: !tls.insecure,
        timeout: timeoutMs,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

const execFileAsync = promisify(execFile);

/**
 * Runs `ip` (iproute2) with these arguments, e.g. to make a bridge for test addresses; fails
 * naming the package when it is missing and saying root is needed when it is refused.
 */
export async function ip(args: string[]): Promise<void> {
  try {
    await execFileAsync("ip", args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") {
      throw new Error("ip not found on PATH (Debian: apt-get install iproute2)");
    }
    throw new Error(`ip ${args.join(" ")} failed (root needed): ${e.stderr ?? e.message}`);
  }
}
