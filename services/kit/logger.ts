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
      timestamp: pino.stdTimeFunctions.isoTime,
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
 * Stdout, written synchronously: a line is out when the call returns, so nothing is lost on any
 * exit. pino's asynchronous destination (`sync: false`, flushed on `exit`, and `flushLogger`
 * below) took the write off the request's path and cut the api's CPU per request, but on a
 * small shared machine it slowed the local stack's reaction to a spike past its test's 3 s
 * (measured: 3.2 s with it, within the limit without), so it is not the default (BENCHMARKS.md).
 */
export function logDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
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

/** `trace_id`/`span_id` of the active span, or nothing outside a trace. */
export function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return NO_FIELDS;
  const ctx = span.spanContext();
  return isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : NO_FIELDS;
}

/** Shared by every line outside a trace: pino only reads the mixin's result. */
const NO_FIELDS: Record<string, string> = {};
