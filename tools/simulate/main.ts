/**
 * npm run simulate -- --trace <builtin|file.csv|all> --policy swell|hpa|kpa|oracle|all
 *   [--service-rate R] [--cold-start S] [--slo MS] [--seed N] [--queue-cap N] [--hpa-delay S]
 *   [--policy-file FILE] [--json | --markdown] [--out DIR]
 *
 * Replays a load trace against a simulated service under each autoscaler and prints a table
 * (stdout; a progress line goes to stderr). --json prints one JSON object per trace instead,
 * --markdown the tables as Markdown;
 * --out DIR also writes <trace>.json, <trace>.svg and <trace>.png. Deterministic: the same
 * arguments give the same output. Bad arguments exit 2 with one line per problem.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import {
  formatPolicyIssues,
  ScalingPolicy,
  ScalingPolicySpec,
  type ScalingPolicySpecInput,
} from "../../sidecar/protocol/policy.ts";
import { svgToPng } from "../chart/chart.ts";
import { chartSvg, jsonObject, markdownTable, type TraceResult, table } from "./report.ts";
import { DEFAULTS, POLICY_NAMES, type PolicyName, type SimOptions, simulate } from "./run.ts";
import { BUILTIN_NAMES, BUILTIN_TRACES, loadTrace, type Trace } from "./traces.ts";

const USAGE = `usage: npm run simulate -- [--trace <${BUILTIN_NAMES.join("|")}|file.csv|all>] [--policy <${POLICY_NAMES.join("|")}|all>]
  [--service-rate R] [--cold-start S] [--slo MS] [--seed N] [--queue-cap N] [--hpa-delay S]
  [--policy-file FILE] [--json | --markdown] [--out DIR]

built-in traces:
${BUILTIN_NAMES.map((n) => `  ${n.padEnd(12)} ${BUILTIN_TRACES[n]}`).join("\n")}`;

interface Cli {
  traces: string[];
  policies: PolicyName[];
  options: SimOptions;
  json: boolean;
  markdown: boolean;
  out?: string;
}

function parseCli(argv: string[]): Cli | { problems: string[] } | "help" {
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
        "policy-file": { type: "string" },
        json: { type: "boolean", default: false },
        markdown: { type: "boolean", default: false },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (err) {
    return { problems: [(err as Error).message] };
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
  };
  const file = values["policy-file"];
  if (typeof file === "string") {
    const spec = readPolicyFile(file, problems);
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
  if (values.json && values.markdown) problems.push("--json and --markdown: choose one");
  if (problems.length > 0) return { problems };
  const cli: Cli = {
    traces,
    policies,
    options,
    json: values.json === true,
    markdown: values.markdown === true,
  };
  if (typeof values.out === "string") cli.out = values.out;
  return cli;
}

/** A ScalingPolicy (YAML or JSON) or a bare spec; problems are reported per field. */
function readPolicyFile(file: string, problems: string[]): ScalingPolicySpecInput | undefined {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"));
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

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  if (cli === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if ("problems" in cli) {
    for (const p of cli.problems) process.stderr.write(`simulate: ${p}\n`);
    process.stderr.write("simulate: see --help\n");
    return 2;
  }
  const traces: Trace[] = [];
  for (const spec of cli.traces) {
    try {
      traces.push(loadTrace(spec, cli.options.seed));
    } catch (err) {
      process.stderr.write(`simulate: --trace: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const tty = process.stderr.isTTY === true;
  const total = traces.length * cli.policies.length;
  let done = 0;
  const results: TraceResult[] = [];
  for (const trace of traces) {
    const r: TraceResult = { trace: trace.name, seconds: trace.rps.length, policies: {} };
    for (const policy of cli.policies) {
      const line = `simulate: ${trace.name} / ${policy} (${++done}/${total})`;
      process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      r.policies[policy] = simulate(trace, policy, cli.options);
    }
    results.push(r);
  }
  if (tty) process.stderr.write("\r\x1b[K");

  for (const r of results) {
    if (cli.json) process.stdout.write(`${JSON.stringify(jsonObject(r))}\n`);
    else if (cli.markdown) process.stdout.write(`${markdownTable(r)}\n\n`);
    else process.stdout.write(`${table(r, cli.options)}\n\n`);
    if (cli.out) {
      mkdirSync(cli.out, { recursive: true });
      const svg = await chartSvg(r);
      writeFileSync(
        join(cli.out, `${r.trace}.json`),
        `${JSON.stringify(jsonObject(r), null, 2)}\n`,
      );
      writeFileSync(join(cli.out, `${r.trace}.svg`), svg);
      writeFileSync(join(cli.out, `${r.trace}.png`), svgToPng(svg, 1400));
    }
  }
  if (cli.out) process.stderr.write(`simulate: wrote ${results.length * 3} files to ${cli.out}\n`);
  return 0;
}

process.exitCode = await main();
