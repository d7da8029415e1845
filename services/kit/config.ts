import { z } from "zod";
import { DEFAULT_SERVER_LIMITS as LIMITS, type ServerLimits } from "./server.ts";

/** The environment as Node gives it: every value a string, or absent. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A parsed config or command line, or one line per problem. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; problems: string[] };
export type ParseEnvResult<T> = ParseResult<T>;

/**
 * Validates the environment against a zod object schema whose keys are variable names.
 * Pure: returns the typed config, or one line per problem, each naming the variable and what
 * was expected (`PORT: expected an integer 0..65535, got "abc"`). An empty value counts as
 * unset, so `PORT=` falls back to the default like a missing PORT.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Env): ParseEnvResult<z.output<S>> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const raw = env[key];
    if (raw !== undefined && raw !== "") input[key] = raw;
  }
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.map(String).join(".") || "(environment)";
    const raw = input[String(issue.path[0])];
    if (raw === undefined) return `${name}: required, not set`;
    return `${name}: ${issue.message}, got ${JSON.stringify(raw)}`;
  });
  return { ok: false, problems };
}

export interface LoadConfigIo {
  /** Where the problem lines go; stderr by default. */
  writeError?: (line: string) => void;
  /** How the program stops; process.exit by default. */
  exit?: (code: number) => never;
}

export interface ConfigExitOptions extends LoadConfigIo {
  /** Starts each line: `config` for the environment, a tool's name for its arguments. */
  prefix?: string;
  /** Printed after the problems (a tool's usage). */
  usage?: string;
}

/**
 * How every program stops on bad config or arguments: one `<prefix>: <problem>` line per problem
 * on stderr, then the usage when given, and exit code 2. No stack trace: a config error is the
 * operator's to fix, not a bug.
 */
export function exitOnConfigProblems(
  problems: readonly string[],
  options: ConfigExitOptions = {},
): never {
  const writeError = options.writeError ?? ((line: string) => process.stderr.write(`${line}\n`));
  for (const line of problems) writeError(`${options.prefix ?? "config"}: ${line}`);
  if (options.usage !== undefined) writeError(options.usage);
  return (options.exit ?? process.exit)(2);
}

/** The parsed value, or its problems printed and exit 2 (`exitOnConfigProblems`). */
export function configOrExit<T>(result: ParseResult<T>, options: ConfigExitOptions = {}): T {
  return result.ok ? result.value : exitOnConfigProblems(result.problems, options);
}

/** `parseEnv` for a program's `main`: returns the config, or prints its problems and exits 2. */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Env = process.env,
  io: LoadConfigIo = {},
): z.output<S> {
  return configOrExit(parseEnv(schema, env), io);
}

/** A variable parsed from its string by `parse`; `expected` reads "expected <expected>". */
function fromString<T>(expected: string, parse: (raw: string) => T | undefined) {
  return z.string().transform((raw, ctx): T => {
    const value = parse(raw.trim());
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message: `expected ${expected}` });
      return z.NEVER;
    }
    return value;
  });
}

function parseIntIn(raw: string, min: number, max: number): number | undefined {
  if (!/^-?\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `1500`, `1500ms`, `1.5s`, `2m`, `1h` → milliseconds (a bare number is milliseconds). */
export function parseDurationMs(raw: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? "ms"] ?? 1);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * zod schemas for common variables, each giving a clear "expected …" line. Chain `.default(v)`
 * (typed value, e.g. `envVars.port().default(8080)`) or `.optional()`.
 */
export const envVars = {
  /** TCP port; 0 asks the OS for a free one (tests). */
  port: () => fromString("an integer 0..65535", (raw) => parseIntIn(raw, 0, 65535)),
  host: () =>
    fromString("a host name or IP address", (raw) => (/^[\w.:-]+$/.test(raw) ? raw : undefined)),
  /** Milliseconds: `500`, `500ms`, `5s`, `1m`. */
  durationMs: (max = 24 * 3_600_000) =>
    fromString(`a duration like 500ms, 5s or 1m (at most ${max} ms)`, (raw) => {
      const ms = parseDurationMs(raw);
      return ms !== undefined && ms <= max ? ms : undefined;
    }),
  positiveInt: (max = Number.MAX_SAFE_INTEGER) =>
    fromString(`an integer 1..${max}`, (raw) => parseIntIn(raw, 1, max)),
  nonNegativeInt: (max = Number.MAX_SAFE_INTEGER) =>
    fromString(`an integer 0..${max}`, (raw) => parseIntIn(raw, 0, max)),
  logLevel: () =>
    fromString(`one of ${LOG_LEVELS.join(", ")}`, (raw) =>
      (LOG_LEVELS as readonly string[]).includes(raw.toLowerCase())
        ? (raw.toLowerCase() as LogLevel)
        : undefined,
    ),
  /** One of a fixed set of words, as written. */
  oneOf: <const T extends readonly string[]>(values: T) =>
    fromString(`one of ${values.join(", ")}`, (raw) =>
      values.includes(raw) ? (raw as T[number]) : undefined,
    ),
  /** A number from 0 to 1, e.g. `0.1`. */
  ratio: () =>
    fromString("a number from 0 to 1", (raw) => {
      const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
      return n >= 0 && n <= 1 ? n : undefined;
    }),
  /** An absolute http(s) URL. */
  httpUrl: () =>
    fromString("an http(s) URL like http://host:8080", (raw) => {
      try {
        const url = new URL(raw);
        return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
      } catch {
        return undefined;
      }
    }),
  string: () => fromString("a non-empty string", (raw) => (raw.length > 0 ? raw : undefined)),
  boolean: () =>
    fromString("true or false", (raw) =>
      /^(true|1|yes)$/i.test(raw) ? true : /^(false|0|no)$/i.test(raw) ? false : undefined,
    ),
};

/** The variables every HTTP program reads, to spread into its own schema. */
export const httpServerEnv = {
  HOST: envVars.host().default("0.0.0.0"),
  PORT: envVars.port().default(8080),
  LOG_LEVEL: envVars.logLevel().default("info"),
  /** How long /readyz answers 503 while still serving, so load balancers stop sending. */
  SHUTDOWN_DELAY: envVars.durationMs().default(5000),
  /** After the delay, how long in-flight requests and queued work may take to finish. */
  SHUTDOWN_TIMEOUT: envVars.durationMs().default(20_000),
  /** Largest request body accepted; larger answers 413. */
  MAX_BODY_BYTES: envVars.positiveInt().default(1_048_576),
  // Bounds on what a slow or greedy client can hold (docs/reliability.md): see serverLimits().
  /** A client must send its request's headers within this (slow headers: Slowloris). */
  HTTP_HEADERS_TIMEOUT: envVars.durationMs(3_600_000).default(LIMITS.headersTimeoutMs),
  /** …and the whole request, body included, within this (slow bodies). */
  HTTP_REQUEST_TIMEOUT: envVars.durationMs(3_600_000).default(LIMITS.requestTimeoutMs),
  /** An idle keep-alive connection is closed after this. */
  HTTP_KEEP_ALIVE_TIMEOUT: envVars.durationMs(3_600_000).default(LIMITS.keepAliveTimeoutMs),
  /** Request line and headers larger than this answer 431. */
  HTTP_MAX_HEADER_BYTES: envVars.positiveInt(1_048_576).default(LIMITS.maxHeaderBytes),
  /** Open connections beyond this are closed as they arrive. */
  HTTP_MAX_CONNECTIONS: envVars.positiveInt(1_000_000).default(LIMITS.maxConnections),
  /** A keep-alive connection older than this is closed after its next response; 0s: never. */
  HTTP_MAX_CONNECTION_AGE: envVars.durationMs().default(LIMITS.maxConnectionAgeMs),
};

/** The server limits of `httpServerEnv`, as `listen` takes them. */
export function serverLimits(config: {
  HTTP_HEADERS_TIMEOUT: number;
  HTTP_REQUEST_TIMEOUT: number;
  HTTP_KEEP_ALIVE_TIMEOUT: number;
  HTTP_MAX_HEADER_BYTES: number;
  HTTP_MAX_CONNECTIONS: number;
  HTTP_MAX_CONNECTION_AGE: number;
}): ServerLimits {
  return {
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT,
    maxHeaderBytes: config.HTTP_MAX_HEADER_BYTES,
    maxConnections: config.HTTP_MAX_CONNECTIONS,
    maxConnectionAgeMs: config.HTTP_MAX_CONNECTION_AGE,
  };
}
