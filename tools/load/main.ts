// `npm run load`: an open-loop load generator with a live progress line, a summary, and with
// --report a JSON file and a chart of load, latency and replicas over time.
import { configOrExit } from "../../services/kit/config.ts";
import { parseLoadArgs, USAGE } from "./args.ts";
import { rateAt } from "./profile.ts";
import { pollReplicas } from "./replicas.ts";
import { writeLoadReport } from "./report.ts";
import { runLoad } from "./run.ts";

const args = configOrExit(parseLoadArgs(process.argv.slice(2)), { prefix: "load", usage: USAGE });

const stopping = new AbortController();
process.once("SIGINT", () => stopping.abort());
process.once("SIGTERM", () => stopping.abort());

const polling = new AbortController();
const startMs = performance.now();
const replicas = pollReplicas(args.controller, startMs, polling.signal);
const err = process.stderr;
process.stdout.write(
  `load: ${args.method} ${args.target} ${args.profile} up to ${args.rps}/s for ${args.durationS}s (open loop)\n`,
);

const stats = await runLoad({
  target: args.target,
  method: args.method,
  body: args.body,
  profile: args.profile,
  rps: args.rps,
  durationS: args.durationS,
  timeoutMs: 30_000,
  maxInFlight: 5000,
  signal: stopping.signal,
  onSecond(second, s, inFlight) {
    const t = s.totals();
    const line =
      `t=${second}s/${args.durationS}s target=${rateAt(args.profile, second, args.durationS, args.rps).toFixed(0)}/s ` +
      `sent=${t.sent} 2xx=${t.ok} 429=${t.tooMany} err=${t.errors} open=${inFlight}`;
    if (err.isTTY) err.write(`\r\x1b[2K${line}`);
    else if (second % 5 === 0) err.write(`${line}\n`);
  },
});
polling.abort();
if (err.isTTY) err.write("\n");

const t = stats.totals();
const ms = (v: number) => (Number.isNaN(v) ? "-" : `${v.toFixed(1)} ms`);
process.stdout.write(
  [
    `sent         ${t.sent}`,
    `2xx          ${t.ok}`,
    `429          ${t.tooMany}${stats.tooManyWithoutRetryAfter ? ` (${stats.tooManyWithoutRetryAfter} without Retry-After)` : ""}`,
    `other errors ${t.errors}${stats.errorKinds.size ? ` (${[...stats.errorKinds].map(([k, n]) => `${k}: ${n}`).join(", ")})` : ""}`,
    `latency p50  ${ms(t.p50Ms)}`,
    `latency p99  ${ms(t.p99Ms)}`,
    "",
  ].join("\n"),
);
if (args.report) {
  const files = await writeLoadReport(args.report, args, stats, await replicas);
  process.stdout.write(`report: ${files.join(", ")}\n`);
}
