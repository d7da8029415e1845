import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { concrete, readDashboard } from "../monitoring/dashboard.ts";
import { openBrowser } from "./browser.ts";
import { type RunningPrometheus, startPrometheus } from "./prometheus.ts";
import { type LocalStack, startLocalStack, workerSpike, workloadView } from "./stack.ts";

// Watching the real local stack take a spike, two ways at once (one stack run for both: it is
// the costly part on a small machine):
// - the live page in a real browser (Debian's headless Chromium): it must show the worker's
//   scale-up on its chart and the reasons the controller gave, the ones its decisions endpoint
//   serves;
// - the real Prometheus server with tools/local/prometheus.yml: it must scrape every part, and
//   every query of the Grafana dashboard (k8s/components/monitoring) must return data.

let stack: LocalStack;
let browser: Awaited<ReturnType<typeof openBrowser>>;
let page: Page;
let prometheus: RunningPrometheus;
/** What went wrong in the page: script errors, failed or foreign requests, console errors. */
const problems: string[] = [];
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// SWELL_SCREENSHOT_DIR=docs/img refreshes the screenshot README shows.
const shotDir =
  process.env.SWELL_SCREENSHOT_DIR ?? path.join(tmpdir(), `swell-page-${randomUUID()}`);

beforeAll(async () => {
  browser = await openBrowser();
  stack = await startLocalStack();
  await stack.until("worker and api ready", 30_000, async () => {
    const [w, a] = await Promise.all([
      workloadView(stack.controller, "worker"),
      workloadView(stack.controller, "api"),
    ]);
    return w.readyReplicas === 1 && a.readyReplicas === 1 ? true : undefined;
  });
  expect(stack.output()).toContain(`page        ${stack.controller}/`);
  prometheus = await startPrometheus(stack.controller);
  page = await browser.context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`); // CSP refusals land here
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("requestfailed", (r) => problems.push(`${r.url()}: ${r.failure()?.errorText}`));
  // Everything the page loads must come from the controller: it works offline.
  page.on("request", (r) => {
    if (!r.url().startsWith(stack.controller)) problems.push(`left the controller: ${r.url()}`);
  });
  await page.goto(`${stack.controller}/`);
  await page.waitForSelector('#status[data-state="live"]', { timeout: 15_000 });
  await page.waitForSelector('[data-workload="default/worker"] [data-chart="replicas"] canvas');
  expect(problems).toEqual([]);
}, 90_000);

afterAll(async () => {
  await prometheus?.stop();
  await browser?.close();
  await stack?.stop();
});

/** What the page's replicas chart holds for a workload, and the top of its drawn y axis. */
async function replicasChart(key: string) {
  return page.evaluate((k) => {
    type U = { data: (number | null)[][]; scales: { y: { max: number } } };
    const swell = (
      globalThis as unknown as { swell: { workloads: Map<string, { charts: { replicas: U } }> } }
    ).swell;
    const u = swell.workloads.get(k)?.charts.replicas;
    if (!u) return undefined;
    const max = (i: number) => Math.max(0, ...(u.data[i] ?? []).map((v) => v ?? 0));
    return {
      points: u.data[0]?.length ?? 0,
      current: max(1),
      desired: max(2),
      ready: max(3),
      yMax: u.scales.y.max,
    };
  }, key);
}

describe("watching the local stack during a spike", () => {
  it("the live page shows the worker's scale-up on its chart and the reasons, as it happens", async () => {
    const stats = await workerSpike(stack.worker);
    expect(stats.totals().ok).toBeGreaterThan(0);

    // The chart drew the scale-up: more than one replica wanted, started and ready, on screen.
    await page.waitForFunction(
      () => {
        const w = (
          globalThis as unknown as {
            swell: { workloads: Map<string, { charts: { replicas: { data: number[][] } } }> };
          }
        ).swell.workloads.get("default/worker");
        return Math.max(...(w?.charts.replicas.data[3] ?? [0])) >= 3;
      },
      undefined,
      { timeout: 30_000 },
    );
    const chart = await replicasChart("default/worker");
    expect(chart?.desired).toBeGreaterThanOrEqual(3);
    expect(chart?.current).toBeGreaterThanOrEqual(3);
    expect(chart?.yMax).toBeGreaterThanOrEqual(chart?.current ?? Infinity);

    // The decision list shows the scale-up with the controller's full reason and each stage's
    // proposal, the same the decisions endpoint serves for that moment.
    const res = await fetch(`${stack.controller}/v1/workloads/default/worker/decisions`);
    const api = (await res.json()) as {
      decisions: {
        at: string;
        reason: string;
        currentReplicas: number;
        desiredReplicas: number;
        stages: { stage: string; replicas: number }[];
      }[];
    };
    const ups = api.decisions
      .filter((d) => d.desiredReplicas > d.currentReplicas)
      .map((d) => ({
        at: d.at,
        change: `${d.currentReplicas} → ${d.desiredReplicas}`,
        reason: d.reason,
        stages: d.stages.map((st) => `${st.stage} ${st.replicas}`),
      }));
    expect(ups.length).toBeGreaterThan(0);
    const up = page.locator('[data-workload="default/worker"] li.decision[data-direction="up"]');
    const shownUps = () =>
      up.evaluateAll((items) =>
        items.map((li) => ({
          at: li.querySelector("time")?.getAttribute("datetime") ?? "",
          change: li.querySelector(".change")?.textContent ?? "",
          reason: li.querySelector(".reason")?.textContent ?? "",
          // each policy stage's row: its name and the size it handed on
          stages: [...li.querySelectorAll("tr[data-stage]")].map(
            (tr) => `${tr.querySelector("th")?.textContent} ${tr.querySelector("td")?.textContent}`,
          ),
        })),
      );
    // The page may be a sample behind the API; it must catch up to every scale-up listed there.
    const shown = await stack.until("the page to list every scale-up", 10_000, async () => {
      const list = await shownUps();
      return ups.every((u) => list.some((s) => s.at === u.at)) ? list : undefined;
    });
    for (const u of ups) expect(shown).toContainEqual(u);
    expect(shown[shown.length - 1]?.reason).toMatch(/requestRate|queueLength/);

    // The readout follows the newest sample.
    const current = Number(
      await page.textContent('[data-workload="default/worker"] [data-field="currentReplicas"]'),
    );
    expect(current).toBeGreaterThanOrEqual(1);

    expect(problems).toEqual([]);
    mkdirSync(shotDir, { recursive: true });
    const file = path.join(shotDir, "live-page.png");
    await page.locator('[data-workload="default/worker"]').screenshot({ path: file });
    const png = readFileSync(file);
    expect(png.subarray(0, 8).equals(PNG)).toBe(true);
    expect(png.length).toBeGreaterThan(20_000); // charts and text, not a blank page
  }, 120_000);

  it("Prometheus scraped every part, and every dashboard query returns data", async () => {
    // The controller, and an app and an agent per replica, each found through the stack's list.
    // Scraped at least once in the last 30 s (a scrape may time out on a busy machine: 1 s).
    const up = await prometheus.query("count by (service) (max_over_time(up[30s]) == 1)");
    const upBy = Object.fromEntries(up.map((r) => [r.metric.service, Number(r.value[1])]));
    expect(upBy).toMatchObject({ "swell-controller": 1, api: 1 });
    expect(upBy.worker).toBeGreaterThanOrEqual(1);
    expect(upBy["swell-agent"]).toBeGreaterThanOrEqual(2);

    const { json, queries } = readDashboard();
    const empty: string[] = [];
    for (const { panel, target } of queries) {
      const result = await prometheus.query(concrete(target.expr, "1m"));
      if (result.length === 0) empty.push(`${panel.title} ${target.refId}: ${target.expr}`);
    }
    expect(empty, "dashboard queries that returned no data").toEqual([]);

    // The variables' label_values(metric, label) list what the spike touched.
    for (const v of json.templating.list) {
      const m = /^label_values\((\w+), (\w+)\)$/.exec(
        String((v.query as { query?: string })?.query ?? ""),
      );
      if (!m) continue;
      const [, metric, labelName] = m;
      const res = await fetch(
        `${prometheus.url}/api/v1/label/${labelName}/values?${new URLSearchParams({ "match[]": metric ?? "" })}`,
      );
      const values = ((await res.json()) as { data: string[] }).data;
      expect(values, v.name).toContain(v.name === "workload" ? "default/worker" : "worker");
    }

    // And the data is the spike's: the worker went to 3 or more replicas.
    const peak = await prometheus.query(
      'max_over_time(max(swell_current_replicas{workload="default/worker"})[5m:1s])',
    );
    expect(Number(peak[0]?.value[1])).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it("the live page says so when the controller stops", async () => {
    await stack.stop();
    await page.waitForSelector('#status[data-state="down"]', { timeout: 15_000 });
  }, 60_000);
});
