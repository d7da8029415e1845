import autocannon from "autocannon";
import type { BenchContext } from "./context.ts";
import { startOtlpReceiver } from "./otlp-receiver.ts";
import { cpuSeconds, type Program, startProgram, waitHealthy } from "./proc.ts";
import { median, ratio, rotation } from "./stats.ts";

/** One app's figures: requests/s and server CPU µs per request, medians of its runs. */
export interface AppFigures {
  rps: number;
  cpuUsPerRequest: number;
}

export interface ServiceResult {
  /**
   * Requests/s of the api (full instrumentation, tracing off) over the bare app's, both CPU
   * bound: each round's ratio, then the median of the rounds.
   */
  throughputRatio: number;
  /** The same with every span exported over OTLP to a receiver on loopback. */
  throughputRatioTracing: number;
  /** The same sampling 10 % (`parentbased_traceidratio`, 0.1): the other spans are not recorded. */
  throughputRatioTracing10: number;
  /** The same with the access log off (LOG_LEVEL=warn): how much of the cost is the log line. */
  throughputRatioNoAccessLog: number;
  /** bare ÷ api server CPU per request: the ratio a dedicated core would give. */
  cpuRatio: number;
  /** The api's own capacity settings (16 at once, 20 ms of work each): the ratio there. */
  throughputRatioDefaultCapacity: number;
  apps: Record<ContenderName, AppFigures>;
  rounds: number;
  secondsPerRun: number;
}

/**
 * Capacity for the CPU-bound comparison, the same for both apps: no simulated work and more
 * slots than requests in flight, so the limiter never queues and the CPU is the bottleneck.
 * With the api's defaults (16 slots × 20 ms) both apps sit at the same sleep-bound 800 req/s
 * and the instrumentation's cost is hidden; that case is measured too, as a second figure.
 */
export const CAPACITY = { API_CONCURRENCY: "1000", API_WORK_MS: "0", API_MAX_WAITING: "1000" };
const DEFAULT_CAPACITY = { API_CONCURRENCY: "16", API_WORK_MS: "20", API_MAX_WAITING: "1000" };
/** 32 connections × 8 pipelined requests: enough that one client keeps a Node server busy. */
const LOAD = { connections: 32, pipelining: 8 };
const LOAD_DEFAULT_CAPACITY = { connections: 32, pipelining: 1 };

type ContenderName =
  | "bare"
  | "api"
  | "apiTracing"
  | "apiTracing10"
  | "apiNoAccessLog"
  | "bare20ms"
  | "api20ms";
interface Contender {
  name: ContenderName;
  url: string;
  pid: number;
}

/** Service overhead: the api against a bare Hono app on the same route, runs alternating. */
export async function benchService(ctx: BenchContext): Promise<ServiceResult> {
  const rounds = ctx.quick ? 3 : 5;
  const seconds = ctx.quick ? 3 : 5;
  const receiver = await startOtlpReceiver();
  const programs: Program[] = [];
  const start = async (
    name: ContenderName,
    entry: string,
    env: Record<string, string>,
  ): Promise<Contender> => {
    const port = await ctx.freePort();
    const p = startProgram(name, ctx.entries.of(entry), {
      HOST: "127.0.0.1",
      PORT: String(port),
      SHUTDOWN_DELAY: "0",
      ...env,
    });
    programs.push(p);
    ctx.cleanup.add(p.stop);
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(p, `${url}/healthz`);
    return { name, url, pid: p.pid };
  };
  const rps = new Map<ContenderName, number[]>();
  const cpu = new Map<ContenderName, number[]>();
  const compare = async (contenders: Contender[], load: typeof LOAD) => {
    for (const c of contenders) {
      ctx.progress(`service: warming up ${c.name}`);
      await run(c.url, 2, load);
    }
    for (let r = 0; r < rounds; r++) {
      for (const c of rotation(contenders, r)) {
        const cpu0 = await cpuSeconds(c.pid);
        const result = await run(c.url, seconds, load);
        const perRequest = ratio(((await cpuSeconds(c.pid)) - cpu0) * 1e6, result * seconds);
        rps.set(c.name, [...(rps.get(c.name) ?? []), result]);
        cpu.set(c.name, [...(cpu.get(c.name) ?? []), perRequest]);
        ctx.progress(
          `service: round ${r + 1}/${rounds} ${c.name} ${result.toFixed(0)} req/s, ${perRequest.toFixed(0)} µs CPU each`,
        );
      }
    }
  };
  // Each round's ratio, then the median: runs side by side share the machine's mood.
  const perRound = (name: ContenderName, base: ContenderName) =>
    median((rps.get(name) ?? []).map((v, i) => ratio(v, rps.get(base)?.[i] ?? Number.NaN)));
  const figures = (name: ContenderName): AppFigures => ({
    rps: median(rps.get(name) ?? []),
    cpuUsPerRequest: median(cpu.get(name) ?? []),
  });
  const stopAll = async () => {
    for (const p of programs.splice(0)) {
      await p.stop();
      ctx.cleanup.delete(p.stop);
    }
  };
  try {
    ctx.progress(
      "service: starting the bare app and the api (plain, tracing at 100 % and 10 %, without access log)",
    );
    await compare(
      await Promise.all([
        start("bare", "tools/bench/bare-app.ts", CAPACITY),
        start("api", "services/api/main.ts", CAPACITY),
        start("apiTracing", "services/api/main.ts", {
          ...CAPACITY,
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_SERVICE_NAME: "api",
        }),
        start("apiTracing10", "services/api/main.ts", {
          ...CAPACITY,
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_SERVICE_NAME: "api",
          OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
          OTEL_TRACES_SAMPLER_ARG: "0.1",
        }),
        start("apiNoAccessLog", "services/api/main.ts", { ...CAPACITY, LOG_LEVEL: "warn" }),
      ]),
      LOAD,
    );
    if (receiver.requests === 0) throw new Error("service: the api with tracing exported nothing");
    await stopAll();
    ctx.progress("service: the same two at the api's default capacity (16 × 20 ms)");
    await compare(
      await Promise.all([
        start("bare20ms", "tools/bench/bare-app.ts", DEFAULT_CAPACITY),
        start("api20ms", "services/api/main.ts", DEFAULT_CAPACITY),
      ]),
      LOAD_DEFAULT_CAPACITY,
    );
    const apps = Object.fromEntries(
      (
        [
          "bare",
          "api",
          "apiTracing",
          "apiTracing10",
          "apiNoAccessLog",
          "bare20ms",
          "api20ms",
        ] as const
      ).map((n) => [n, figures(n)]),
    ) as Record<ContenderName, AppFigures>;
    return {
      throughputRatio: perRound("api", "bare"),
      throughputRatioTracing: perRound("apiTracing", "bare"),
      throughputRatioTracing10: perRound("apiTracing10", "bare"),
      throughputRatioNoAccessLog: perRound("apiNoAccessLog", "bare"),
      cpuRatio: ratio(apps.bare.cpuUsPerRequest, apps.api.cpuUsPerRequest),
      throughputRatioDefaultCapacity: perRound("api20ms", "bare20ms"),
      apps,
      rounds,
      secondsPerRun: seconds,
    };
  } finally {
    await stopAll();
    await receiver.close();
  }
}

/** Closed-loop GET / for `seconds`: successful requests per second. */
async function run(url: string, seconds: number, load: typeof LOAD): Promise<number> {
  const result = await autocannon({ url: `${url}/`, ...load, duration: seconds });
  if (result.errors > 0 || result.non2xx > result["2xx"] / 100) {
    throw new Error(`${url}: ${result.errors} errors and ${result.non2xx} non-2xx answers`);
  }
  return result["2xx"] / result.duration;
}
