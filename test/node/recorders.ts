// What the failover test records while it runs, from the real parts: watches on the API server
// (every change of an object, in order) and the controllers' logs streamed from the kubelet.
import { PassThrough } from "node:stream";
import { type KubeConfig, Log, Watch } from "@kubernetes/client-node";

/** One change of a watched object, stamped with the test's clock when it arrived. */
export interface Seen<T> {
  at: number;
  object: T;
}

/**
 * Records every ADDED/MODIFIED object a watch delivers, in order, until `stop`. A watch that
 * ends early (the API server closes watches after a while) is started again from the last
 * resourceVersion, so no change is missed.
 */
export function recordWatch<T extends { metadata?: { resourceVersion?: string } }>(
  kc: KubeConfig,
  path: string,
  params: Record<string, string> = {},
): { seen: Seen<T>[]; stop: () => void } {
  const seen: Seen<T>[] = [];
  let stopped = false;
  let abort: AbortController | undefined;
  let lastVersion: string | undefined;
  const start = () => {
    if (stopped) return;
    void new Watch(kc)
      .watch(
        path,
        { ...params, ...(lastVersion ? { resourceVersion: lastVersion } : {}) },
        (phase: string, object: T) => {
          if (phase !== "ADDED" && phase !== "MODIFIED") return;
          lastVersion = object.metadata?.resourceVersion ?? lastVersion;
          seen.push({ at: Date.now(), object });
        },
        () => setTimeout(start, 200),
      )
      .then((a) => {
        abort = a;
        if (stopped) a.abort();
      })
      .catch(() => setTimeout(start, 500));
  };
  start();
  return {
    seen,
    stop: () => {
      stopped = true;
      abort?.abort();
    },
  };
}

/** One JSON log line of a swell program (pino: `time` ISO, `msg`, the fields). */
export type LogLine = { time: string; msg: string } & Record<string, unknown>;

/**
 * Follows a container's log through the API server (which reads it from the kubelet) from its
 * first line until the container ends or `stop`; `ended` resolves when the stream ends.
 */
export async function followLog(
  kc: KubeConfig,
  where: { namespace: string; pod: string; container: string },
): Promise<{ lines: LogLine[]; ended: Promise<void>; stop: () => void }> {
  const stream = new PassThrough();
  const lines: LogLine[] = [];
  let rest = "";
  stream.on("data", (chunk: Buffer) => {
    const parts = (rest + chunk.toString("utf8")).split("\n");
    rest = parts.pop() ?? "";
    for (const part of parts) {
      const line = parseLine(part);
      if (line) lines.push(line);
    }
  });
  const ended = new Promise<void>((resolve) => stream.on("end", () => resolve()));
  const req = await new Log(kc).log(where.namespace, where.pod, where.container, stream, {
    follow: true,
  });
  return { lines, ended, stop: () => req?.abort() };
}

/** The JSON lines of a whole log text (non-JSON lines, such as node's own, are skipped). */
export function parseLog(text: string): LogLine[] {
  return text
    .split("\n")
    .map(parseLine)
    .filter((l): l is LogLine => l !== undefined);
}

function parseLine(text: string): LogLine | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    return typeof o.time === "string" && typeof o.msg === "string" ? (o as LogLine) : undefined;
  } catch {
    return undefined;
  }
}

/** The agent's delivery counters, read from its /metrics. */
export interface Delivery {
  accepted: number;
  unavailable: number;
  refused: number;
  superseded: number;
}

export function parseDelivery(text: string): Delivery {
  const value = (pattern: RegExp) => {
    const m = pattern.exec(text);
    if (!m?.[1]) throw new Error(`no ${pattern.source} in the agent's metrics`);
    return Number(m[1]);
  };
  return {
    accepted: value(/^swell_agent_reports_accepted_total (\S+)$/m),
    unavailable: value(/^swell_agent_report_failures_total\{reason="unavailable"\} (\S+)$/m),
    refused: value(/^swell_agent_report_failures_total\{reason="refused"\} (\S+)$/m),
    superseded: value(/^swell_agent_reports_superseded_total (\S+)$/m),
  };
}
