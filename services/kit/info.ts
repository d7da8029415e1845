import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Handler } from "hono";
import { z } from "zod";
import type { OperationSpec } from "./openapi.ts";

export interface ServiceInfo {
  name: string;
  version: string;
  /** Kubernetes pod name (downward API `POD_NAME`), or the host name outside a cluster. */
  pod: string;
  hostname: string;
}

/** The version in the nearest package.json above `fromDir` (works from sources and dist/). */
export function packageVersion(fromDir: string): string {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
      if (typeof pkg.version === "string") return pkg.version;
    } catch {
      // No package.json here: look further up.
    }
    if (path.dirname(dir) === dir) return "unknown";
  }
}

export function serviceInfo(
  name: string,
  env: { POD_NAME?: string; SERVICE_VERSION?: string },
  fromDir: string,
): ServiceInfo {
  return {
    name,
    version: env.SERVICE_VERSION ?? packageVersion(fromDir),
    pod: env.POD_NAME ?? os.hostname(),
    hostname: os.hostname(),
  };
}

/** A handler for `GET /`: who answered (name, version, pod, hostname) and its uptime. */
export function infoHandler(info: ServiceInfo, now: () => number = Date.now): Handler {
  const startedAt = now();
  return (c) => c.json({ ...info, uptime_seconds: Math.round((now() - startedAt) / 100) / 10 });
}

/** `GET /` as an OpenAPI operation; `extra` adds responses (e.g. a capacity limit's 503). */
export function infoOperation(extra: OperationSpec["responses"] = {}): OperationSpec {
  return {
    method: "get",
    path: "/",
    operationId: "info",
    summary: "who answered: name, version, pod, hostname, uptime",
    responses: {
      "200": {
        description: "the service",
        schema: z.object({
          name: z.string(),
          version: z.string(),
          pod: z.string(),
          hostname: z.string(),
          uptime_seconds: z.number().min(0),
        }),
      },
      ...extra,
    },
  };
}
