import { spawn } from "node:child_process";
import type { BenchContext } from "./context.ts";
import { BENCH_TOKEN, startController } from "./controller-process.ts";
import { workloadNames } from "./policies.ts";
import { cpuSeconds, type Program, startProgram, waitHealthy } from "./proc.ts";
import type { ClientResult } from "./report-client.ts";
import type { SimulatedPods } from "./report-load.ts";
import { median, ratio, rotation } from "./stats.ts";

export interface ControllerResult {
  /** Reports a second one controller accepted (202), median of the runs. */
  reportsPerSecond: number;
  /** p99 latency of a report (ms), median of the runs. */
  p99Ms: number;
  p50Ms: number;
  /** The controller's CPU time per accepted report (µs), and what that makes one busy core take. */
  cpuUsPerReport: number;
  reportsPerCpuSecond: number;
  /** The same load against a bare node:http server that only reads the body: the ceiling here. */
  baselineRequestsPerSecond: number;
  baselineCpuUsPerRequest: number;
  baselineP99Ms: number;
  /** reportsPerSecond ÷ baselineRequestsPerSecond, and the bare server's CPU per request ÷ the controller's. */
  ofBaseline: number;
  cpuOfBaseline: number;
  /** The load client's own CPU per report (µs), median over the controller's runs. */
  clientCpuUs: number;
  pods: number;
  workloads: number;
  connections: number;
  rounds: number;
  secondsPerRun: number;
}

const FLEET: SimulatedPods = { pods: 50_000, workloads: workloadNames(1000) };
const CONNECTIONS = 32;

/**
 * Controller ingest: 50,000 simulated pods over 1,000 workloads posting valid reports (increasing
 * seq, fresh windows) to a real controller process as fast as it takes them, alternating with
 * the same load against a bare server.
 */
export async function benchController(
  ctx: BenchContext,
  controllerEnv: Record<string, string> = {},
): Promise<ControllerResult> {
  const rounds = ctx.quick ? 3 : 5;
  const seconds = ctx.quick ? 4 : 8;
  const controller = await startController(ctx, FLEET.workloads, controllerEnv);
  const sinkPort = await ctx.freePort();
  const sink = startProgram("sink", ctx.entries.of("tools/bench/sink-app.ts"), {
    PORT: String(sinkPort),
  });
  ctx.cleanup.add(sink.stop);
  const sinkUrl = `http://127.0.0.1:${sinkPort}`;
  try {
    await waitHealthy(sink, `${sinkUrl}/healthz`);
    // One report from every pod first: the controller learns the fleet (and decides on each
    // new pod) before anything is timed.
    ctx.progress(
      `controller: ${FLEET.pods} pods over ${FLEET.workloads.length} workloads say hello`,
    );
    await post(ctx, controller.url, { amount: FLEET.pods });
    ctx.progress("controller: warming up");
    await post(ctx, controller.url, { duration: 2 });
    const runs = { controller: [] as Run[], sink: [] as Run[] };
    const contenders = [
      { name: "controller" as const, url: controller.url, program: controller.program },
      { name: "sink" as const, url: sinkUrl, program: sink },
    ];
    for (let r = 0; r < rounds; r++) {
      for (const c of rotation(contenders, r)) {
        const run = await post(ctx, c.url, { duration: seconds }, c.program);
        runs[c.name].push(run);
        ctx.progress(
          `controller: round ${r + 1}/${rounds} ${c.name} ${run.rps.toFixed(0)} reports/s, p99 ${run.p99Ms.toFixed(2)} ms, ${run.cpuUsPerRequest.toFixed(0)} µs CPU each (client ${run.clientCpuUs.toFixed(0)} µs)`,
        );
      }
    }
    const reportsPerSecond = median(runs.controller.map((r) => r.rps));
    const cpuUsPerReport = median(runs.controller.map((r) => r.cpuUsPerRequest));
    const baseline = median(runs.sink.map((r) => r.rps));
    return {
      reportsPerSecond,
      p99Ms: median(runs.controller.map((r) => r.p99Ms)),
      p50Ms: median(runs.controller.map((r) => r.p50Ms)),
      cpuUsPerReport,
      reportsPerCpuSecond: ratio(1e6, cpuUsPerReport),
      baselineRequestsPerSecond: baseline,
      baselineCpuUsPerRequest: median(runs.sink.map((r) => r.cpuUsPerRequest)),
      baselineP99Ms: median(runs.sink.map((r) => r.p99Ms)),
      ofBaseline: ratio(reportsPerSecond, baseline),
      cpuOfBaseline: ratio(median(runs.sink.map((r) => r.cpuUsPerRequest)), cpuUsPerReport),
      clientCpuUs: median(runs.controller.map((r) => r.clientCpuUs)),
      pods: FLEET.pods,
      workloads: FLEET.workloads.length,
      connections: CONNECTIONS,
      rounds,
      secondsPerRun: seconds,
    };
  } finally {
    await sink.stop();
    ctx.cleanup.delete(sink.stop);
    await controller.stop();
  }
}

interface Run {
  rps: number;
  /** CPU time of the server per answered request, microseconds. */
  cpuUsPerRequest: number;
  /** The load client's own CPU time per answered request, µs. */
  clientCpuUs: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Posts reports from the fleet with the load client (tools/bench/report-client.ts, a process of
 * its own) for `duration` seconds or `amount` reports; every answer must be 202.
 */
async function post(
  ctx: BenchContext,
  url: string,
  how: { duration: number } | { amount: number },
  program?: Program,
): Promise<Run> {
  const cpu0 = program ? await cpuSeconds(program.pid) : 0;
  const result = await runClient(ctx, {
    TARGET_URL: url,
    TOKEN: BENCH_TOKEN,
    PODS: String(FLEET.pods),
    WORKLOADS: String(FLEET.workloads.length),
    CONNECTIONS: String(CONNECTIONS),
    // Each run's seqs start above the last run's: a fresh client must not look like a replay.
    SEQ_BASE: String(Date.now()),
    ...("duration" in how ? { DURATION_S: String(how.duration) } : { AMOUNT: String(how.amount) }),
  });
  const refused = Object.entries(result.statuses).filter(([code]) => code !== "202");
  if (result.errors.length > 0 || refused.length > 0) {
    throw new Error(
      `${url}: errors ${JSON.stringify(result.errors)}; answers other than 202: ${JSON.stringify(Object.fromEntries(refused))}`,
    );
  }
  const cpu = program ? (await cpuSeconds(program.pid)) - cpu0 : Number.NaN;
  const answered = result.statuses["202"] ?? 0;
  return {
    cpuUsPerRequest: ratio(cpu * 1e6, answered),
    clientCpuUs: result.clientCpuUs,
    rps: ratio(answered, result.seconds),
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
  };
}

async function runClient(ctx: BenchContext, env: Record<string, string>): Promise<ClientResult> {
  const child = spawn(process.execPath, [ctx.entries.of("tools/bench/report-client.ts")], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const kill = async () => {
    child.kill("SIGKILL");
  };
  ctx.cleanup.add(kill);
  let out = "";
  let err = "";
  child.stdout.on("data", (b) => (out += b));
  child.stderr.on("data", (b) => (err = (err + b).slice(-4000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  }).finally(() => ctx.cleanup.delete(kill));
  if (code !== 0) throw new Error(`load client exited with ${code}: ${err.trim()}`);
  try {
    return JSON.parse(out) as ClientResult;
  } catch {
    throw new Error(`load client printed no result: ${out.slice(0, 200)} ${err.trim()}`);
  }
}
