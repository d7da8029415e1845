/**
 * npm run simulate -- --trace <builtin|random[:SEED]|file.csv|all> --policy swell|hpa|kpa|oracle|all
 *   [--seeds A..B] [--summary] [--service-rate R] [--cold-start S] [--slo MS] [--seed N] ...
 *   [--policy-file FILE] [--json | --markdown] [--out DIR]
 *
 * Replays a load trace against a simulated service under each autoscaler and prints a table
 * (stdout; a progress line goes to stderr). --json prints one JSON object per trace instead,
 * --markdown the tables as Markdown, --summary only the figures over all traces (frontier);
 * --out DIR also writes <trace>.json, <trace>.svg and <trace>.png. Deterministic: the same
 * arguments give the same output. Bad arguments exit 2 with one line per problem.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configOrExit, exitOnConfigProblems } from "../../services/kit/config.ts";
import { svgToPng } from "../chart/chart.ts";
import { parseSimulateArgs, USAGE } from "./args.ts";
import {
  chartSvg,
  jsonObject,
  markdownTable,
  summarize,
  summaryText,
  type TraceResult,
  table,
} from "./report.ts";
import { frontier, type PolicyName, type SimOptions, simulate } from "./run.ts";
import { loadTrace, type Trace } from "./traces.ts";

/** How a bad argument is reported: one `simulate: <problem>` line each, then where help is. */
const BAD_ARGS = { prefix: "simulate", usage: "simulate: see --help" };

async function main(): Promise<number> {
  const parsed = parseSimulateArgs(process.argv.slice(2));
  if (parsed === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const cli = configOrExit(parsed, BAD_ARGS);
  const jobs: { trace: Trace; options: SimOptions }[] = [];
  const seeds = cli.seeds
    ? Array.from(
        { length: cli.seeds.to - cli.seeds.from + 1 },
        (_, i) => (cli.seeds?.from ?? 0) + i,
      )
    : [cli.options.seed];
  for (const spec of cli.traces) {
    for (const seed of seeds) {
      try {
        const options = { ...cli.options, seed };
        jobs.push({ trace: loadTrace(spec, seed, options.serviceRate), options });
      } catch (err) {
        exitOnConfigProblems([`--trace: ${(err as Error).message}`], BAD_ARGS);
      }
    }
  }
  const tty = process.stderr.isTTY === true;
  const withFrontier = ["swell", "hpa", "kpa"].every((p) => cli.policies.includes(p as PolicyName));
  let done = 0;
  const results: TraceResult[] = [];
  for (const { trace, options } of jobs) {
    const line = `simulate: ${trace.name} (${++done}/${jobs.length})`;
    process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    const r: TraceResult = {
      trace: trace.name,
      seconds: trace.rps.length,
      seed: options.seed,
      coldStartSeconds: trace.coldStartSeconds ?? options.coldStartSeconds,
      policies: {},
    };
    for (const policy of cli.policies) r.policies[policy] = simulate(trace, policy, options);
    if (withFrontier) r.frontier = frontier(trace, options, r.policies);
    results.push(r);
  }
  if (tty) process.stderr.write("\r\x1b[K");

  if (cli.summary) {
    process.stdout.write(`${summaryText(summarize(results))}\n`);
    return 0;
  }
  for (const r of results) {
    if (cli.json) process.stdout.write(`${JSON.stringify(jsonObject(r))}\n`);
    else if (cli.markdown) process.stdout.write(`${markdownTable(r)}\n\n`);
    else
      process.stdout.write(
        `${table(r, { ...cli.options, seed: r.seed ?? cli.options.seed, coldStartSeconds: r.coldStartSeconds ?? cli.options.coldStartSeconds })}\n\n`,
      );
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
