import { parseArgs } from "node:util";
import { type ParseResult, parseDurationMs } from "../../services/kit/config.ts";
import { PROFILES, type Profile } from "./profile.ts";

export interface LoadArgs {
  target: URL;
  method: string;
  body: string | undefined;
  profile: Profile;
  rps: number;
  durationS: number;
  report: string | undefined;
  controller: URL;
}

export const USAGE = `usage: npm run load -- --target URL [--method POST --body JSON]
       [--profile step|spike|ramp|sine|constant] [--rps N] [--duration 60s]
       [--report DIR] [--controller http://127.0.0.1:9090]`;

/** Parses the command line; every problem is one line naming the flag. Pure. */
export function parseLoadArgs(argv: string[]): ParseResult<LoadArgs> {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        target: { type: "string" },
        method: { type: "string", default: "GET" },
        body: { type: "string" },
        profile: { type: "string", default: "step" },
        rps: { type: "string", default: "50" },
        duration: { type: "string", default: "60s" },
        report: { type: "string" },
        controller: { type: "string", default: "http://127.0.0.1:9090" },
      },
    }).values as Record<string, string | undefined>;
  } catch (err) {
    return { ok: false, problems: [(err as Error).message] };
  }
  const problems: string[] = [];
  const url = (flag: string): URL => {
    try {
      const u = new URL(values[flag] ?? "");
      if (u.protocol === "http:" || u.protocol === "https:") return u;
    } catch {}
    problems.push(`--${flag}: expected an http(s) URL, got ${JSON.stringify(values[flag] ?? "")}`);
    return new URL("http://invalid");
  };
  const target = url("target");
  const controller = url("controller");
  const method = (values.method ?? "GET").toUpperCase();
  if (!/^(GET|POST|PUT|PATCH|DELETE|HEAD)$/.test(method))
    problems.push(`--method: unsupported ${method}`);
  const body = values.body;
  if (body !== undefined) {
    try {
      JSON.parse(body);
    } catch {
      problems.push("--body: expected JSON");
    }
  }
  const profile = values.profile as Profile;
  if (!PROFILES.includes(profile))
    problems.push(`--profile: expected one of ${PROFILES.join(", ")}`);
  const rps = Number(values.rps);
  if (!(rps > 0 && rps <= 100_000))
    problems.push(`--rps: expected a number in (0, 100000], got ${values.rps}`);
  const raw = values.duration ?? "";
  const ms = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : parseDurationMs(raw);
  if (ms === undefined || ms <= 0 || ms > 24 * 3600_000) {
    problems.push(
      `--duration: expected seconds or a duration like 60s or 2m, got ${JSON.stringify(raw)}`,
    );
  }
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    value: {
      target,
      method,
      body,
      profile,
      rps,
      durationS: (ms ?? 0) / 1000,
      report: values.report,
      controller,
    },
  };
}
