import type { EventEmitter } from "node:events";
import { isSpanContextValid, trace } from "@opentelemetry/api";
import { type DestinationStream, type Logger, pino } from "pino";
import type { LogLevel } from "./config.ts";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** Service name, on every line as `service`. */
  name: string;
  level: LogLevel;
  /** Where lines go; stdout by default. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
}

/**
 * pino JSON logger. Every line written inside a traced request carries `trace_id` and
 * `span_id` of the active OpenTelemetry span, so logs and traces join on the trace id.
 * Without tracing there is no active span and the mixin adds nothing.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.name, pid: process.pid },
      timestamp: isoTimeCached(),
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
      // pino's default merge copies the line into the mixin's object; outside a trace there is
      // nothing to add, and the shared empty object must stay empty.
      mixinMergeStrategy: (line, fields) =>
        fields === NO_FIELDS ? line : Object.assign(fields, line),
    },
    options.destination ?? logDestination(),
  );
}

/**
 * Stdout, written synchronously once per event-loop turn: the lines a turn logs are joined and
 * written with one `write(2)` at the end of that turn (`setImmediate`), and on exit. Under load
 * a turn answers many requests, and a write per line was a tenth of the api's CPU per request
 * (BENCHMARKS.md). Nothing waits on I/O and no line outlives the turn in memory, so a normal
 * exit, `process.exit` and an uncaught error all write every line; only a process killed
 * outright (SIGKILL, out of memory) can lose its last turn's lines. pino's asynchronous
 * destination (`sync: false`) was cheaper still but slowed the local stack's reaction to a spike
 * past its test's 3 s on a small shared machine, so it is not used.
 */
export function logDestination(): DestinationStream {
  return perTurn(pino.destination({ dest: 1, sync: true }));
}

/** Joins the lines written during one event-loop turn into one write to `out`. */
export function perTurn(out: DestinationStream & { flushSync?: () => void }): DestinationStream & {
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
} {
  let pending = "";
  let scheduled = false;
  const writePending = () => {
    scheduled = false;
    if (pending === "") return;
    const text = pending;
    pending = "";
    out.write(text);
  };
  process.on("exit", writePending);
  return {
    write(line: string) {
      pending += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(writePending);
      }
    },
    flush(cb) {
      writePending();
      cb?.();
    },
    flushSync() {
      writePending();
      out.flushSync?.();
    },
  };
}

/**
 * Resolves once every line logged so far is written, or after `timeoutMs`. pino's own `flush`
 * returns at once while a write is still in flight; exiting then would let the synchronous
 * flush on exit write the newest lines before that older batch.
 */
export function flushLogger(logger: Logger, timeoutMs = 1000): Promise<void> {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | (DestinationStream & Partial<EventEmitter> & { _writing?: unknown })
    | undefined;
  // SonicBoom's `_writing` is private; without it the worst case is lines out of order at exit.
  if (stream?._writing !== true || typeof stream.once !== "function") {
    return new Promise((resolve) => logger.flush(() => resolve()));
  }
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    stream.once?.("drain", done);
  });
}

/**
 * pino's ISO `time` field, formatted once per millisecond: under load many lines share one,
 * and `toISOString` was a few per cent of a request's CPU.
 */
export function isoTimeCached(now: () => number = Date.now): () => string {
  let lastMs = Number.NaN;
  let field = "";
  return () => {
    const ms = now();
    if (ms !== lastMs) {
      lastMs = ms;
      field = `,"time":"${new Date(ms).toISOString()}"`;
    }
    return field;
  };
}

/** `trace_id`/`span_id` of the active span, or nothing outside a trace. */
export function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return NO_FIELDS;
  const ctx = span.spanContext();
  return isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : NO_FIELDS;
}

/** Shared by every line outside a trace: pino only reads the mixin's result. */
const NO_FIELDS: Record<string, string> = {};
