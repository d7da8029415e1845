// `npm run bench [-- --quick] [-- --json]`: what swell costs, side by side with baselines measured
// in the same run. Progress on stderr; the table (or one JSON object) on stdout.
import { configOrExit } from "../../services/kit/config.ts";
import { type AgentResult, benchAgent } from "./agent.ts";
import { OPTIONAL_SECTIONS, parseBenchArgs, type SectionName, USAGE } from "./args.ts";
import { buildEntries } from "./build.ts";
import { benchContext } from "./context.ts";
import { benchController, type ControllerResult } from "./controller.ts";
import { describeMachine } from "./machine.ts";
import { benchMetricsApi, type MetricsApiResult } from "./metrics-api.ts";
import { benchNodeLoad, type NodeLoadResult } from "./node-load.ts";
import { benchPolicy } from "./policy.ts";
import { benchReaction, type ReactionResult } from "./reaction.ts";
import { type BenchResults, benchJson, benchRows } from "./results.ts";
import { benchScrape, type ScrapeResult } from "./scrape.ts";
import { benchService, type ServiceResult } from "./service.ts";
import { formatTable } from "./table.ts";

/** The flags of this run as `npm run bench` takes them, for the table's last line. Pure. */
function commandFlags(a: { quick: boolean; only: readonly SectionName[] }): string {
  const flags = [
    ...(a.quick ? ["--quick"] : []),
    ...(a.only.includes("node") ? ["--node"] : []),
    ...(a.only.some((s) => s !== "node")
      ? [`--only ${a.only.filter((s) => s !== "node").join(",")}`]
      : []),
  ];
  return flags.length ? ` -- ${flags.join(" ")}` : "";
}

const args = configOrExit(parseBenchArgs(process.argv.slice(2)), {
  prefix: "bench",
  usage: USAGE,
});
const wanted = (s: SectionName) =>
  args.only.length === 0 ? !OPTIONAL_SECTIONS.includes(s) : args.only.includes(s);
const machine = describeMachine();
const started = performance.now();
const log = (line: string) => process.stderr.write(line);

log(
  `bench: ${args.quick ? "quick" : "full"} run on ${machine.cpus} × ${machine.model}, Node ${machine.node}, load average ${machine.loadAverage.toFixed(1)}\n`,
);
log("bench: compiling the programs to out/bench-dist (tsc), as they ship\n");
const entries = await buildEntries([
  "services/api/main.ts",
  "sidecar/agent/main.ts",
  "sidecar/controller/main.ts",
  "tools/bench/bare-app.ts",
  "tools/bench/sink-app.ts",
  "tools/bench/floor-app.ts",
  "tools/bench/report-client.ts",
]);
if (entries.problem) log(`bench: running the sources instead: ${entries.problem}\n`);
const ctx = benchContext(args.quick, entries, log);

let interrupted = false;
const stopAll = async (signal: NodeJS.Signals) => {
  if (interrupted) process.exit(130);
  interrupted = true;
  log(`\nbench: ${signal}, stopping the programs it started\n`);
  await Promise.allSettled([...ctx.cleanup].map((stop) => stop()));
  process.exit(130);
};
process.on("SIGINT", (s) => void stopAll(s));
process.on("SIGTERM", (s) => void stopAll(s));

const results: BenchResults = { machine, quick: args.quick, entries: entries.kind, failures: [] };
/** The phase running now, so that even an error nobody awaited is charged to it. */
let phase = "setup";
const fail = (message: string) => {
  results.failures.push(`${phase}: ${message}`);
  log(`bench: FAILED ${phase}: ${message}\n`);
};
process.on("uncaughtException", (err) => fail(`uncaught ${err.stack ?? err.message}`));
process.on("unhandledRejection", (err) =>
  fail(`unhandled rejection ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
);
/** Runs one phase; a failure is recorded with the phase's name and cause, and the rest go on. */
async function section<T>(
  name: SectionName,
  run: () => Promise<T>,
  label: string = name,
): Promise<T | undefined> {
  if (!wanted(name)) return undefined;
  phase = label;
  try {
    return await run();
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
    return undefined;
  } finally {
    phase = "between phases";
  }
}

results.service = await section<ServiceResult>("service", () => benchService(ctx));
results.scrape = await section<ScrapeResult>("scrape", () => benchScrape(ctx));
results.agent = await section<AgentResult>("agent", () => benchAgent(ctx));
results.controller = await section<ControllerResult>("controller", () => benchController(ctx));
results.reaction = await section<ReactionResult>("reaction", () => benchReaction(ctx));
results.reactionAgentDefault = await section<ReactionResult>(
  "reaction",
  () => benchReaction(ctx, 1000),
  "reaction (agents at 1 Hz)",
);
results.policy = await section("policy", () => benchPolicy(ctx));
results.metricsApi = await section<MetricsApiResult>("metrics-api", () => benchMetricsApi(ctx));
results.node = await section<NodeLoadResult>("node", () => benchNodeLoad(ctx));

log(`bench: done in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
// Said again last, so the end of the output names every phase that failed and why.
for (const f of results.failures) log(`bench: FAILED ${f}\n`);
if (results.failures.length > 0) log(`bench: ${results.failures.length} failed, exit 1\n`);
if (args.json) {
  process.stdout.write(`${JSON.stringify(benchJson(results))}\n`);
} else {
  const out: string[] = [formatTable(benchRows(results))];
  if (results.policy) out.push("", "Policy quality (npm run simulate):", "", results.policy.table);
  out.push(
    "",
    `machine: ${machine.cpus} × ${machine.model}, Node ${machine.node}, load average ${machine.loadAverage.toFixed(1)} at the start; programs run as ${entries.kind === "built" ? "compiled JavaScript (out/bench-dist)" : "TypeScript sources"}`,
    `command: npm run bench${commandFlags(args)}`,
  );
  for (const f of results.failures) out.push(`FAILED ${f}`);
  process.stdout.write(`${out.join("\n")}\n`);
}
process.exit(results.failures.length > 0 ? 1 : 0);
