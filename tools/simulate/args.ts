// The simulator's command line (npm run simulate): flags to options, every problem one line
// naming its flag, so main prints them the way every program does (configOrExit).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import type { ParseResult } from "../../services/kit/config.ts";
import {
  formatPolicyIssues,
  ScalingPolicy,
  ScalingPolicySpec,
  type ScalingPolicySpecInput,
} from "../../sidecar/protocol/policy.ts";
import { DEFAULTS, POLICY_NAMES, type PolicyName, type SimOptions } from "./run.ts";
import { BUILTIN_NAMES, BUILTIN_TRACES } from "./traces.ts";

export const USAGE = `usage: npm run simulate -- [--trace <${BUILTIN_NAMES.join("|")}|random[:SEED]|file.csv|all>] [--policy <${POLICY_NAMES.join("|")}|all>]
  [--seeds A..B] [--summary] [--service-rate R] [--cold-start S] [--slo MS] [--seed N]
  [--queue-cap N] [--pod-queue-cap N] [--hpa-delay S] [--hpa-target F] [--kpa-utilization F]
  [--kpa-metric concurrency|rps] [--container-concurrency N]
  [--policy-file FILE] [--json | --markdown] [--out DIR]

built-in traces:
${BUILTIN_NAMES.map((n) => `  ${n.padEnd(12)} ${BUILTIN_TRACES[n]}`).join("\n")}`;

export interface Cli {
  traces: string[];
  policies: PolicyName[];
  options: SimOptions;
  /** each trace is run once per seed (the noisy and random traces and the HPA's phase follow it) */
  seeds?: { from: number; to: number };
  json: boolean;
  markdown: boolean;
  summary: boolean;
  out?: string;
}

/**
 * Parses the command line: the options, "help", or one problem per line naming its flag. Reads
 * only the --policy-file (through `readText`); the traces are loaded by main.
 */
export function parseSimulateArgs(
  argv: string[],
  readText: (file: string) => string = (file) => readFileSync(file, "utf8"),
): ParseResult<Cli> | "help" {
  const problems: string[] = [];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        trace: { type: "string", default: "all" },
        policy: { type: "string", default: "all" },
        "service-rate": { type: "string" },
        "cold-start": { type: "string" },
        slo: { type: "string" },
        seed: { type: "string" },
        "queue-cap": { type: "string" },
        "hpa-delay": { type: "string" },
        "pod-queue-cap": { type: "string" },
        "hpa-target": { type: "string" },
        "kpa-utilization": { type: "string" },
        "kpa-metric": { type: "string" },
        "container-concurrency": { type: "string" },
        seeds: { type: "string" },
        summary: { type: "boolean", default: false },
        "policy-file": { type: "string" },
        json: { type: "boolean", default: false },
        markdown: { type: "boolean", default: false },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (err) {
    // parseArgs explains over several lines; a problem is one line (it names the flag).
    return { ok: false, problems: [(err as Error).message.replaceAll("\n", " ")] };
  }
  if (values.help) return "help";
  const number = (
    flag: string,
    fallback: number,
    check: (n: number) => boolean,
    expected: string,
  ) => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || !check(n)) {
      problems.push(`--${flag}: expected ${expected}, got "${String(raw)}"`);
      return fallback;
    }
    return n;
  };
  const options: SimOptions = {
    ...DEFAULTS,
    serviceRate: number(
      "service-rate",
      DEFAULTS.serviceRate,
      (n) => n > 0,
      "requests/s per replica > 0",
    ),
    coldStartSeconds: number(
      "cold-start",
      DEFAULTS.coldStartSeconds,
      (n) => n >= 0 && n <= 600,
      "seconds in [0, 600]",
    ),
    sloMs: number("slo", DEFAULTS.sloMs, (n) => n > 0, "milliseconds > 0"),
    seed: number("seed", DEFAULTS.seed, (n) => Number.isInteger(n), "an integer"),
    queueCap: number("queue-cap", DEFAULTS.queueCap, (n) => n >= 0, "requests >= 0"),
    hpaDelaySeconds: number("hpa-delay", DEFAULTS.hpaDelaySeconds, (n) => n >= 0, "seconds >= 0"),
    podQueueCap: number("pod-queue-cap", DEFAULTS.podQueueCap, (n) => n >= 0, "requests >= 0"),
    hpaTarget: number(
      "hpa-target",
      DEFAULTS.hpaTarget,
      (n) => n > 0 && n <= 1,
      "a fraction in (0, 1]",
    ),
    kpaUtilization: number(
      "kpa-utilization",
      DEFAULTS.kpaUtilization,
      (n) => n > 0 && n <= 1,
      "a fraction in (0, 1]",
    ),
    containerConcurrency: number(
      "container-concurrency",
      DEFAULTS.containerConcurrency,
      (n) => Number.isInteger(n) && n >= 1,
      "an integer >= 1",
    ),
  };
  const metric = values["kpa-metric"];
  if (metric !== undefined) {
    if (metric === "concurrency" || metric === "rps") options.kpaMetric = metric;
    else problems.push(`--kpa-metric: expected concurrency or rps, got "${String(metric)}"`);
  }
  let seeds: Cli["seeds"];
  const seedsArg = values.seeds;
  if (typeof seedsArg === "string") {
    const m = /^(-?\d+)\.\.(-?\d+)$/.exec(seedsArg);
    if (!m || Number(m[1]) > Number(m[2]))
      problems.push(`--seeds: expected A..B with integers A <= B, got "${seedsArg}"`);
    else seeds = { from: Number(m[1]), to: Number(m[2]) };
  }
  const file = values["policy-file"];
  if (typeof file === "string") {
    const spec = readPolicyFile(file, readText, problems);
    if (spec) options.swellPolicy = spec;
  }
  const traceArg = String(values.trace);
  const traces = traceArg === "all" ? [...BUILTIN_NAMES] : [traceArg];
  const policyArg = String(values.policy);
  const policies: PolicyName[] = policyArg === "all" ? [...POLICY_NAMES] : [];
  if (policyArg !== "all") {
    if ((POLICY_NAMES as readonly string[]).includes(policyArg))
      policies.push(policyArg as PolicyName);
    else
      problems.push(
        `--policy: expected one of ${POLICY_NAMES.join(", ")} or all, got "${policyArg}"`,
      );
  }
  if ([values.json, values.markdown, values.summary].filter(Boolean).length > 1)
    problems.push("--json, --markdown and --summary: choose one");
  if (problems.length > 0) return { ok: false, problems };
  const cli: Cli = {
    traces,
    policies,
    options,
    json: values.json === true,
    markdown: values.markdown === true,
    summary: values.summary === true,
  };
  if (seeds) cli.seeds = seeds;
  if (typeof values.out === "string") cli.out = values.out;
  return { ok: true, value: cli };
}

/** A ScalingPolicy (YAML or JSON) or a bare spec; problems are reported per field. */
function readPolicyFile(
  file: string,
  readText: (file: string) => string,
  problems: string[],
): ScalingPolicySpecInput | undefined {
  let doc: unknown;
  try {
    doc = parseYaml(readText(file));
  } catch (err) {
    problems.push(`--policy-file: ${(err as Error).message}`);
    return undefined;
  }
  const isResource = typeof doc === "object" && doc !== null && "spec" in doc;
  const parsed = isResource ? ScalingPolicy.safeParse(doc) : ScalingPolicySpec.safeParse(doc);
  if (!parsed.success) {
    for (const line of formatPolicyIssues(parsed.error, isResource ? "" : "spec"))
      problems.push(`--policy-file ${file}: ${line}`);
    return undefined;
  }
  return (
    isResource ? (doc as { spec: ScalingPolicySpecInput }).spec : doc
  ) as ScalingPolicySpecInput;
}
