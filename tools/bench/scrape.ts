import http from "node:http";
import autocannon from "autocannon";
import type { BenchContext } from "./context.ts";
import { cpuSeconds, startProgram, waitHealthy } from "./proc.ts";
import { percentile, ratio } from "./stats.ts";

export interface ScrapeResult {
  p50Ms: number;
  p99Ms: number;
  /** CPU time the api spends per scrape, in milliseconds. */
  cpuMsPerScrape: number;
  scrapes: number;
  bodyBytes: number;
}

/**
 * Scrape cost: GET /metrics on a real api that has served traffic on several routes (so its
 * histograms have series), back to back over one keep-alive connection. CPU per scrape is the
 * api's CPU time over the batch, less what it used idle for as long, divided by the scrapes.
 */
export async function benchScrape(ctx: BenchContext): Promise<ScrapeResult> {
  const scrapes = ctx.quick ? 300 : 1000;
  const port = await ctx.freePort();
  const url = `http://127.0.0.1:${port}`;
  const api = startProgram("api", ctx.entries.of("services/api/main.ts"), {
    HOST: "127.0.0.1",
    PORT: String(port),
    SHUTDOWN_DELAY: "0",
    API_WORK_MS: "0",
  });
  ctx.cleanup.add(api.stop);
  try {
    await waitHealthy(api, `${url}/healthz`);
    ctx.progress("scrape: giving the api traffic on several routes");
    for (const path of ["/", "/delay/1", "/status/404", "/status/503", "/nope", "/readyz"]) {
      await autocannon({ url: `${url}${path}`, connections: 4, amount: 400 });
    }
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<number>((resolve, reject) => {
        http
          .get(`${url}/metrics`, { agent }, (res) => {
            let bytes = 0;
            res.on("data", (b: Buffer) => (bytes += b.length));
            res.on("end", () =>
              res.statusCode === 200
                ? resolve(bytes)
                : reject(new Error(`/metrics: ${res.statusCode}`)),
            );
          })
          .on("error", reject);
      });
    for (let i = 0; i < 50; i++) await get(); // warm-up: JIT, lazily built label sets
    ctx.progress(`scrape: ${scrapes} scrapes of /metrics`);
    const latencies: number[] = [];
    let bodyBytes = 0;
    const cpu0 = await cpuSeconds(api.pid);
    const t0 = performance.now();
    for (let i = 0; i < scrapes; i++) {
      const s = performance.now();
      bodyBytes = await get();
      latencies.push(performance.now() - s);
    }
    const busyWall = (performance.now() - t0) / 1000;
    const cpuBusy = (await cpuSeconds(api.pid)) - cpu0;
    // The same time idle, to take out the api's own background work (timers, GC).
    const idle0 = await cpuSeconds(api.pid);
    await new Promise((r) => setTimeout(r, busyWall * 1000));
    const cpuIdle = (await cpuSeconds(api.pid)) - idle0;
    agent.destroy();
    return {
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      cpuMsPerScrape: ratio(Math.max(0, cpuBusy - cpuIdle) * 1000, scrapes),
      scrapes,
      bodyBytes,
    };
  } finally {
    await api.stop();
    ctx.cleanup.delete(api.stop);
  }
}
