import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLoad } from "../../tools/load/run.ts";
import { openBrowser } from "./browser.ts";
import { type LocalStack, startLocalStack, workloadView } from "./stack.ts";

// The live page in a real browser (Debian's headless Chromium) while the real local stack takes
// a spike: the page must show the worker's scale-up on its chart and the reason the controller
// gave, the same one its decisions endpoint serves.

let stack: LocalStack;
let browser: Awaited<ReturnType<typeof openBrowser>>;
let page: Page;
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
  page = await browser.context.newPage();
  const problems: string[] = [];
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

describe("live page (headless Chromium)", () => {
  it("shows the worker's scale-up on its chart and the reason, as the spike happens", async () => {
    const stats = await runLoad({
      target: new URL("/jobs", stack.worker),
      method: "POST",
      body: JSON.stringify({ costMs: 200 }),
      profile: "constant",
      rps: 100,
      durationS: 8,
      timeoutMs: 20_000,
      maxInFlight: 5000,
      signal: new AbortController().signal,
    });
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

    // The decision list shows the scale-up with the controller's full reason, the same text the
    // decisions endpoint serves for that moment.
    const res = await fetch(`${stack.controller}/v1/workloads/default/worker/decisions`);
    const api = (await res.json()) as {
      decisions: { at: string; reason: string; currentReplicas: number; desiredReplicas: number }[];
    };
    const ups = api.decisions
      .filter((d) => d.desiredReplicas > d.currentReplicas)
      .map((d) => ({
        at: d.at,
        change: `${d.currentReplicas} → ${d.desiredReplicas}`,
        reason: d.reason,
      }));
    expect(ups.length).toBeGreaterThan(0);
    const up = page.locator('[data-workload="default/worker"] li.decision[data-direction="up"]');
    const shownUps = () =>
      up.evaluateAll((items) =>
        items.map((li) => ({
          at: li.querySelector("time")?.getAttribute("datetime") ?? "",
          change: li.querySelector(".change")?.textContent ?? "",
          reason: li.querySelector(".reason")?.textContent ?? "",
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

    mkdirSync(shotDir, { recursive: true });
    const file = path.join(shotDir, "live-page.png");
    await page.locator('[data-workload="default/worker"]').screenshot({ path: file });
    const png = readFileSync(file);
    expect(png.subarray(0, 8).equals(PNG)).toBe(true);
    expect(png.length).toBeGreaterThan(20_000); // charts and text, not a blank page
  }, 120_000);

  it("says so when the controller stops", async () => {
    await stack.stop();
    await page.waitForSelector('#status[data-state="down"]', { timeout: 15_000 });
  }, 60_000);
});
