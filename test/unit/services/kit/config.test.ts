import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  configOrExit,
  envVars,
  exitOnConfigProblems,
  httpServerEnv,
  loadConfig,
  parseDurationMs,
  parseEnv,
} from "../../../../services/kit/config.ts";

const schema = z.object({
  ...httpServerEnv,
  WORKER_URL: envVars.httpUrl(),
  CONCURRENCY: envVars.positiveInt(1000).default(4),
});

describe("parseEnv", () => {
  it("applies defaults and parses values", () => {
    const result = parseEnv(schema, {
      PORT: "9000",
      WORKER_URL: "http://127.0.0.1:8081",
      SHUTDOWN_DELAY: "2s",
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.PORT).toBe(9000);
    expect(result.value.HOST).toBe("0.0.0.0");
    expect(result.value.SHUTDOWN_DELAY).toBe(2000);
    expect(result.value.CONCURRENCY).toBe(4);
    expect(result.value.WORKER_URL.href).toBe("http://127.0.0.1:8081/");
  });

  it("treats an empty value as unset", () => {
    const result = parseEnv(schema, { PORT: "", WORKER_URL: "http://w" });
    expect(result.ok && result.value.PORT).toBe(8080);
  });

  it.each([
    ["PORT", "abc", 'PORT: expected an integer 0..65535, got "abc"'],
    ["PORT", "70000", 'PORT: expected an integer 0..65535, got "70000"'],
    ["PORT", "80.5", 'PORT: expected an integer 0..65535, got "80.5"'],
    [
      "LOG_LEVEL",
      "loud",
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    ["SHUTDOWN_TIMEOUT", "soon", "SHUTDOWN_TIMEOUT: expected a duration like 500ms, 5s or 1m"],
    ["CONCURRENCY", "0", 'CONCURRENCY: expected an integer 1..1000, got "0"'],
    [
      "WORKER_URL",
      "ftp://x",
      'WORKER_URL: expected an http(s) URL like http://host:8080, got "ftp://x"',
    ],
  ])("%s=%s gives one line naming the variable", (name, value, line) => {
    const result = parseEnv(schema, { WORKER_URL: "http://w", [name]: value });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toContain(line);
  });

  it("reports a missing required variable and every bad one", () => {
    const result = parseEnv(schema, { PORT: "x", LOG_LEVEL: "y" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.split(":")[0]).sort()).toEqual([
      "LOG_LEVEL",
      "PORT",
      "WORKER_URL",
    ]);
    expect(result.problems).toContain("WORKER_URL: required, not set");
  });
});

describe("loadConfig", () => {
  it("prints one line per problem and exits 2", () => {
    const lines: string[] = [];
    const exit = (code: number): never => {
      throw new Error(`exit ${code}`);
    };
    expect(() =>
      loadConfig(schema, { PORT: "abc" }, { writeError: (l) => lines.push(l), exit }),
    ).toThrow("exit 2");
    expect(lines).toEqual([
      'config: PORT: expected an integer 0..65535, got "abc"',
      "config: WORKER_URL: required, not set",
    ]);
  });
});

describe("exitOnConfigProblems and configOrExit", () => {
  const exit = (code: number): never => {
    throw new Error(`exit ${code}`);
  };

  it("print each problem with the prefix, then the usage, and exit 2", () => {
    const lines: string[] = [];
    const writeError = (l: string) => lines.push(l);
    expect(() =>
      exitOnConfigProblems(["--rps: expected a number", "--body: expected JSON"], {
        prefix: "load",
        usage: "usage: npm run load -- …",
        writeError,
        exit,
      }),
    ).toThrow("exit 2");
    expect(lines).toEqual([
      "load: --rps: expected a number",
      "load: --body: expected JSON",
      "usage: npm run load -- …",
    ]);
  });

  it("configOrExit passes a good result through and stops on a bad one", () => {
    const lines: string[] = [];
    const writeError = (l: string) => lines.push(l);
    expect(configOrExit({ ok: true, value: 7 }, { writeError, exit })).toBe(7);
    expect(lines).toEqual([]);
    expect(() => configOrExit({ ok: false, problems: ["X: bad"] }, { writeError, exit })).toThrow(
      "exit 2",
    );
    expect(lines).toEqual(["config: X: bad"]);
  });
});

describe("parseDurationMs", () => {
  it.each([
    ["1500", 1500],
    ["1500ms", 1500],
    ["1.5s", 1500],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["0", 0],
    ["-1", undefined],
    ["5 s", undefined],
    ["s", undefined],
  ])("%s → %s", (raw, ms) => {
    expect(parseDurationMs(raw)).toBe(ms);
  });
});
