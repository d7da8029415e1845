import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { createHttpMetrics, createRegistry } from "../../../../services/kit/metrics.ts";
import { WorkQueue } from "../../../../services/kit/work-queue.ts";
import { createAgentMetrics } from "../../../../sidecar/agent/metrics.ts";
import { createControllerMetrics } from "../../../../sidecar/controller/metrics.ts";
import { concrete, readDashboard } from "../../../monitoring/dashboard.ts";

// k8s/components/monitoring: the alerts under the real `promtool test rules`, and the Grafana
// dashboard's structure, queries (parsed by promtool) and metric names (each one swell exports).
// test/e2e/observe.test.ts runs the same queries on a real Prometheus scraping the local stack.

const dir = path.resolve(import.meta.dirname, "../../../../k8s/components/monitoring");
const read = (file: string) => readFileSync(path.join(dir, file), "utf8");

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
function promtool(args: string[], cwd: string): { code: number | null; output: string } {
  const r = spawnSync("promtool", args, { cwd, encoding: "utf8" });
  if (r.error) {
    throw new Error(`promtool is needed for this test (apt-get install prometheus): ${r.error}`);
  }
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

const rule = parse(read("prometheusrule.yaml"));
const rules: Rule[] = rule.spec.groups.flatMap((g: { rules: Rule[] }) => g.rules);
const { json: dashboard, queries } = readDashboard();
const panels = dashboard.panels;

const DATASOURCE_VAR = "$" + "{datasource}";

describe("PrometheusRule swell", () => {
  it("passes promtool check rules and every case in test/monitoring/alerts.test.yaml", () => {
    const work = mkdtempSync(path.join(tmpdir(), "swell-rules-"));
    writeFileSync(path.join(work, "swell.rules.yaml"), stringify(rule.spec));
    copyFileSync(
      path.resolve(import.meta.dirname, "../../../monitoring/alerts.test.yaml"),
      path.join(work, "alerts.test.yaml"),
    );
    const check = promtool(["check", "rules", "swell.rules.yaml"], work);
    expect(check.output).toContain(`SUCCESS: ${rules.length} rules found`);
    const test = promtool(["test", "rules", "alerts.test.yaml"], work);
    expect(test.code, test.output).toBe(0);
    expect(test.output).toContain("SUCCESS");
  });

  it("has a test case for each alert, and each alert a severity, summary and description", () => {
    const cases = parse(
      readFileSync(
        path.resolve(import.meta.dirname, "../../../monitoring/alerts.test.yaml"),
        "utf8",
      ),
    );
    const tested = new Set<string>(
      cases.tests.flatMap((t: { alert_rule_test: { alertname: string }[] }) =>
        t.alert_rule_test.map((a) => a.alertname),
      ),
    );
    expect(rules.map((r) => r.alert).sort()).toEqual([...tested].sort());
    for (const r of rules) {
      expect(["critical", "warning", "info"], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
      expect(r.for, `${r.alert} fires on one bad evaluation`).toMatch(/^\d+m$/);
    }
  });
});

describe("Grafana dashboard", () => {
  it("is a dashboard Grafana can import: uid, unique panel ids, panels inside 24 columns", () => {
    expect(dashboard).toMatchObject({ uid: "swell", title: "swell", schemaVersion: 39 });
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(["row", "timeseries"], p.title).toContain(p.type);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
    const vars = dashboard.templating.list.map((v: { name: string }) => v.name);
    expect(vars).toEqual(["datasource", "service", "workload"]);
  });

  it("every query names the datasource variable and a refId", () => {
    expect(queries.length).toBeGreaterThanOrEqual(15);
    for (const { panel, target } of queries) {
      // Grafana's variable syntax, not a template literal: the datasource picked on import.
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: DATASOURCE_VAR });
      expect(target.datasource, panel.title).toEqual(panel.datasource);
      expect(target.refId, panel.title).toMatch(/^[A-Z]$/);
    }
  });

  it("every query parses (promtool check rules, one recording rule per query)", () => {
    const work = mkdtempSync(path.join(tmpdir(), "swell-dashboard-"));
    const recording = queries.map(({ panel, target }) => ({
      record: `swell:dashboard:panel${panel.id}_${target.refId}`,
      expr: concrete(target.expr),
    }));
    writeFileSync(
      path.join(work, "dashboard.rules.yaml"),
      stringify({ groups: [{ name: "dashboard", rules: recording }] }),
    );
    const check = promtool(["check", "rules", "dashboard.rules.yaml"], work);
    expect(check.output).toContain(`SUCCESS: ${queries.length} rules found`);
  });

  it("every metric a query or alert reads is one swell's programs export", async () => {
    const exported = new Set<string>();
    const add = async (registry: ReturnType<typeof createRegistry>) => {
      for (const m of await registry.getMetricsAsJSON()) {
        exported.add(m.name);
        if (String(m.type) === "histogram") {
          for (const s of ["_bucket", "_sum", "_count"]) exported.add(`${m.name}${s}`);
        }
      }
    };
    const service = createRegistry();
    createHttpMetrics(service);
    new WorkQueue({ capacity: 1, concurrency: 1, run: async () => {}, registry: service });
    const controller = createRegistry({ defaultMetrics: false });
    createControllerMetrics(controller);
    const agent = createRegistry({ defaultMetrics: false });
    createAgentMetrics(agent);
    for (const r of [service, controller, agent]) await add(r);

    const texts = [...queries.map((q) => q.target.expr), ...rules.map((r) => r.expr)];
    const read = new Set(
      texts.flatMap((t) => t.match(/\b(?:http|work|swell|process|nodejs)_[a-z0-9_]+/g) ?? []),
    );
    expect(read.size).toBeGreaterThan(10);
    for (const name of read) expect(exported, name).toContain(name);
  });
});
