import { setTimeout as sleep } from "node:timers/promises";
import { AGENT_NODE_FLAGS } from "../../sidecar/agent/node-flags.ts";
import type { BenchContext } from "./context.ts";
import { BENCH_TOKEN, startController } from "./controller-process.ts";
import { measureLatency } from "./latency-client.ts";
import { cpuSeconds, memoryMb, type Program, startProgram, waitHealthy } from "./proc.ts";
import { CAPACITY } from "./service.ts";
import { cpuPercent, mean, median, percentile, ratio } from "./stats.ts";

export interface AgentResult {
  /**
   * Peak resident set size of the agent process as shipped (AGENT_NODE_FLAGS) over the measured
   * windows (1 Hz and 4 Hz).
   */
  rssMb: number;
  /** Peak VmRSS over the 1 Hz windows alone. */
  rss1HzMb: number;
  /** Peak private resident memory (RssAnon): RSS less the shared pages of the node binary. */
  privateMb: number;
  /** The agent at 4 Hz without AGENT_NODE_FLAGS: V8's default heap sizing. */
  defaultHeap: { rssMb: number; privateMb: number; cpuPercent4Hz: number };
  /**
   * What Node itself holds with AGENT_NODE_FLAGS (tools/bench/floor-app.ts): a process doing
   * nothing, and one serving and sending HTTP over node:http at 4 Hz. Peak VmRSS and RssAnon.
   */
  floor: { empty: Memory; http: Memory };
  cpuPercent1Hz: number;
  cpuPercent4Hz: number;
  /**
   * The api's median request latency with the agent scraping it at 1 Hz over without, per pair
   * of adjacent windows; the median of the pairs.
   */
  latencyRatio: number;
  /** The same for the mean and for p99, which a noisy neighbour moves far more. */
  meanLatencyRatio: number;
  p99LatencyRatio: number;
  p50LatencyMs: { with: number; without: number };
  /** CPU windows per rate, and their length. */
  windows: number;
  windowSeconds: number;
  /** Latency: pairs of windows (with, without), and their length. */
  latencyPairs: number;
  latencySeconds: number;
  loadRps: number;
}

const LOAD_RPS = 200;

interface Memory {
  rssMb: number;
  privateMb: number;
}

interface Latency {
  p50: number;
  mean: number;
  p99: number;
}

/**
 * Agent cost: a real agent process scraping a real api (under a steady open-loop load) and
 * reporting to a real controller. CPU and peak RSS of the agent at 1 Hz and 4 Hz; then the
 * api's latency in windows that alternate between the agent scraping and the agent paused
 * (SIGSTOP), so both sides see the same machine at nearly the same time.
 */
export async function benchAgent(ctx: BenchContext): Promise<AgentResult> {
  const windows = ctx.quick ? 3 : 4;
  const windowSeconds = ctx.quick ? 5 : 10;
  const latencyPairs = ctx.quick ? 8 : 16;
  const latencySeconds = ctx.quick ? 2 : 3;
  const controller = await startController(ctx, ["api"]);
  const apiPort = await ctx.freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const api = startProgram("api", ctx.entries.of("services/api/main.ts"), {
    HOST: "127.0.0.1",
    PORT: String(apiPort),
    SHUTDOWN_DELAY: "0",
    ...CAPACITY,
  });
  ctx.cleanup.add(api.stop);
  let agent: Program | undefined;
  const startAgent = async (intervalMs: number, nodeFlags: readonly string[]) => {
    const port = await ctx.freePort();
    const p = startProgram(
      "agent",
      ctx.entries.of("sidecar/agent/main.ts"),
      {
        HOST: "127.0.0.1",
        PORT: String(port),
        SWELL_METRICS_URL: `${apiUrl}/metrics`,
        SWELL_CONTROLLER_URL: controller.url,
        SWELL_TOKEN: BENCH_TOKEN,
        SWELL_WORKLOAD_NAME: "api",
        SWELL_POD_NAME: "api-bench",
        SWELL_SCRAPE_INTERVAL: `${intervalMs}ms`,
      },
      { nodeFlags },
    );
    ctx.cleanup.add(p.stop);
    await waitHealthy(p, `http://127.0.0.1:${port}/healthz`);
    return p;
  };
  const stopAgent = async () => {
    if (!agent) return;
    await agent.stop();
    ctx.cleanup.delete(agent.stop);
    agent = undefined;
  };
  const load = () =>
    measureLatency(`${apiUrl}/`, { rps: LOAD_RPS, durationMs: windowSeconds * 1000 });

  try {
    await waitHealthy(api, `${apiUrl}/healthz`);
    let peakRss = 0;
    let peakAnon = 0;
    /** Agent CPU % over `n` windows of load, sampling RSS each second. */
    const measureAgent = async (p: Program, n: number) => {
      let cpu = 0;
      let wall = 0;
      for (let i = 0; i < n; i++) {
        const sampling = (async () => {
          for (let s = 0; s < windowSeconds; s++) {
            const m = await memoryMb(p.pid);
            peakRss = Math.max(peakRss, m.rss);
            peakAnon = Math.max(peakAnon, m.anon);
            await sleep(1000);
          }
        })();
        const c0 = await cpuSeconds(p.pid);
        const t0 = performance.now();
        await load();
        cpu += (await cpuSeconds(p.pid)) - c0;
        wall += (performance.now() - t0) / 1000;
        await sampling;
      }
      return cpuPercent(0, cpu, wall);
    };

    const result: Partial<AgentResult> = {
      windows,
      windowSeconds,
      latencyPairs,
      latencySeconds,
      loadRps: LOAD_RPS,
    };
    for (const hz of [1, 4] as const) {
      agent = await startAgent(1000 / hz, AGENT_NODE_FLAGS);
      ctx.progress(`agent: ${hz} Hz, warming up`);
      await load(); // agent start-up (module loading, JIT) is not its steady cost
      const cpu = await measureAgent(agent, windows);
      ctx.progress(
        `agent: ${hz} Hz: ${cpu.toFixed(2)} % CPU, peak RSS ${peakRss.toFixed(1)} MiB (private ${peakAnon.toFixed(1)})`,
      );
      if (hz === 1) {
        result.cpuPercent1Hz = cpu;
        result.rss1HzMb = peakRss;
      } else result.cpuPercent4Hz = cpu;
      if (hz === 4) await stopAgent();
      else {
        // Latency with and without the agent at 1 Hz, in adjacent windows: the ratio of each
        // pair, then the median of the pairs, so a noisy neighbour spoils one pair, not the figure.
        const pairs: { on: Latency; off: Latency }[] = [];
        for (let i = 0; i < latencyPairs; i++) {
          const order = i % 2 === 0 ? [true, false] : [false, true];
          const w: Record<string, Latency> = {};
          for (const scraping of order) {
            agent.proc.kill(scraping ? "SIGCONT" : "SIGSTOP");
            const s = await measureLatency(`${apiUrl}/`, {
              rps: LOAD_RPS,
              durationMs: latencySeconds * 1000,
            });
            if (s.errors > 0) throw new Error(`agent: ${s.errors} failed requests to the api`);
            w[String(scraping)] = {
              p50: percentile(s.latenciesMs, 50),
              mean: mean(s.latenciesMs),
              p99: percentile(s.latenciesMs, 99),
            };
          }
          const on = w.true as Latency;
          const off = w.false as Latency;
          pairs.push({ on, off });
          ctx.progress(
            `agent: latency pair ${i + 1}/${latencyPairs}: p50 ${on.p50.toFixed(2)} ms with the agent, ${off.p50.toFixed(2)} ms without`,
          );
        }
        agent.proc.kill("SIGCONT");
        const pairRatio = (k: keyof Latency) => median(pairs.map((p) => ratio(p.on[k], p.off[k])));
        result.latencyRatio = pairRatio("p50");
        result.meanLatencyRatio = pairRatio("mean");
        result.p99LatencyRatio = pairRatio("p99");
        result.p50LatencyMs = {
          with: median(pairs.map((p) => p.on.p50)),
          without: median(pairs.map((p) => p.off.p50)),
        };
        await stopAgent();
      }
    }
    result.rssMb = peakRss;
    result.privateMb = peakAnon;

    // What AGENT_NODE_FLAGS save: the same agent with V8's default heap sizing, whose young
    // generation grows to tens of MiB under the allocation-heavy parse of each scrape.
    peakRss = 0;
    peakAnon = 0;
    agent = await startAgent(250, []);
    ctx.progress("agent: 4 Hz with V8's default heap sizing, warming up");
    await load();
    const cpuDefault = await measureAgent(agent, windows);
    ctx.progress(
      `agent: 4 Hz, default heap: ${cpuDefault.toFixed(2)} % CPU, peak RSS ${peakRss.toFixed(1)} MiB (private ${peakAnon.toFixed(1)})`,
    );
    result.defaultHeap = { rssMb: peakRss, privateMb: peakAnon, cpuPercent4Hz: cpuDefault };
    await stopAgent();

    ctx.progress("agent: the floor, Node with the agent's flags doing nothing, then only HTTP");
    result.floor = {
      empty: await floorMemory(ctx, "empty", windowSeconds),
      http: await floorMemory(ctx, "http", windowSeconds),
    };
    ctx.progress(
      `agent: floor: empty ${result.floor.empty.rssMb.toFixed(1)} MiB (private ${result.floor.empty.privateMb.toFixed(1)}), node:http ${result.floor.http.rssMb.toFixed(1)} MiB (private ${result.floor.http.privateMb.toFixed(1)})`,
    );
    return result as AgentResult;
  } finally {
    await stopAgent();
    await api.stop();
    ctx.cleanup.delete(api.stop);
    await controller.stop();
  }
}

/** Peak memory of tools/bench/floor-app.ts in one mode, sampled each second. */
async function floorMemory(ctx: BenchContext, mode: string, seconds: number): Promise<Memory> {
  const p = startProgram(
    "floor",
    ctx.entries.of("tools/bench/floor-app.ts"),
    { FLOOR: mode },
    {
      nodeFlags: AGENT_NODE_FLAGS,
    },
  );
  ctx.cleanup.add(p.stop);
  try {
    const peak = { rssMb: 0, privateMb: 0 };
    await sleep(1000);
    for (let s = 0; s < seconds; s++) {
      if (p.proc.exitCode !== null)
        throw new Error(`floor-app (${mode}) exited: ${p.stderrTail()}`);
      const m = await memoryMb(p.pid);
      peak.rssMb = Math.max(peak.rssMb, m.rss);
      peak.privateMb = Math.max(peak.privateMb, m.anon);
      await sleep(1000);
    }
    return peak;
  } finally {
    await p.stop();
    ctx.cleanup.delete(p.stop);
  }
}
