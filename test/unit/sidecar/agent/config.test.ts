import { describe, expect, it } from "vitest";
import { parseAgentConfig } from "../../../../sidecar/agent/config.ts";

const machine = { hostname: () => "Worker-7f9c-x2", uid: () => "generated-uid" };
const minimal = { SWELL_WORKLOAD_NAME: "worker" };

describe("agent config", () => {
  it("has defaults for everything but the workload name", () => {
    const parsed = parseAgentConfig(minimal, machine);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const c = parsed.value;
    expect(c.metricsUrl.href).toBe("http://127.0.0.1:8080/metrics");
    expect(c.readyUrl?.href).toBe("http://127.0.0.1:8080/readyz");
    expect(c.controllerUrl.href).toBe("http://127.0.0.1:9090/");
    expect(c.workload).toEqual({ namespace: "default", kind: "Deployment", name: "worker" });
    expect(c.pod).toEqual({ name: "worker-7f9c-x2", namespace: "default", uid: "generated-uid" });
    expect(c).toMatchObject({
      port: 9091,
      scrapeIntervalMs: 1000,
      reportIntervalMs: 1000,
      shortWindowMs: 1000,
      longWindowMs: 10_000,
      timeoutMs: 1000,
      token: { kind: "none" },
    });
    expect(c.specs.requestRate.map((s) => s.metric)).toEqual([
      "work_jobs_total",
      "http_requests_received_total",
      "http_requests_per_second",
      "http_requests_total",
    ]);
  });

  it.each([
    {
      env: { SWELL_SCRAPE_INTERVAL: "250" },
      want: { scrapeIntervalMs: 250, reportIntervalMs: 250, shortWindowMs: 1000 },
    },
    { env: { SWELL_SCRAPE_INTERVAL: "250ms" }, want: { scrapeIntervalMs: 250 } },
    { env: { SWELL_SCRAPE_INTERVAL: "2s" }, want: { scrapeIntervalMs: 2000, shortWindowMs: 2000 } },
    {
      env: { SWELL_REPORT_INTERVAL: "5s", SWELL_TIMEOUT: "300ms" },
      want: { reportIntervalMs: 5000, timeoutMs: 300 },
    },
    {
      env: { SWELL_METRICS_URL: "http://10.0.0.5:3000/stats" },
      want: { readyUrl: new URL("http://10.0.0.5:3000/readyz") },
    },
    { env: { SWELL_READY_URL: "none" }, want: { readyUrl: undefined } },
    {
      env: { SWELL_POD_NAMESPACE: "shop" },
      want: { workload: { namespace: "shop", kind: "Deployment", name: "worker" } },
    },
    {
      env: { SWELL_WORKLOAD_NAMESPACE: "a", SWELL_POD_NAMESPACE: "b" },
      want: { workload: { namespace: "a", kind: "Deployment", name: "worker" } },
    },
    { env: { SWELL_TOKEN: "s3cret" }, want: { token: { kind: "static", value: "s3cret" } } },
    {
      env: { SWELL_TOKEN_FILE: "/var/run/secrets/swell/token" },
      want: { token: { kind: "file", path: "/var/run/secrets/swell/token" } },
    },
    { env: { SWELL_TOKEN: "" }, want: { token: { kind: "none" } } },
  ])("$env", ({ env, want }) => {
    const parsed = parseAgentConfig({ ...minimal, ...env }, machine);
    expect(parsed.ok && parsed.value).toMatchObject(want);
  });

  it("a selector variable replaces the default; none turns the signal off", () => {
    const parsed = parseAgentConfig(
      {
        ...minimal,
        SWELL_METRIC_QUEUE_LENGTH: 'jobs_waiting{queue="main"}',
        SWELL_METRIC_IN_FLIGHT: "none",
      },
      machine,
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.specs.queueLength[0]).toMatchObject({
      metric: "jobs_waiting",
      text: 'jobs_waiting{queue="main"}',
    });
    expect(parsed.value.specs.inFlight).toEqual([]);
  });

  it.each([
    { env: {}, variable: "SWELL_WORKLOAD_NAME", says: "required" },
    {
      env: { ...minimal, SWELL_METRICS_URL: "ftp://x" },
      variable: "SWELL_METRICS_URL",
      says: "http(s) URL",
    },
    {
      env: { ...minimal, SWELL_READY_URL: "nope" },
      variable: "SWELL_READY_URL",
      says: "http(s) URL or none",
    },
    {
      env: { ...minimal, SWELL_SCRAPE_INTERVAL: "fast" },
      variable: "SWELL_SCRAPE_INTERVAL",
      says: "duration",
    },
    {
      env: { ...minimal, SWELL_SCRAPE_INTERVAL: "5ms" },
      variable: "SWELL_SCRAPE_INTERVAL",
      says: "at least 10ms",
    },
    {
      env: { ...minimal, SWELL_WORKLOAD_KIND: "deployment" },
      variable: "SWELL_WORKLOAD_KIND",
      says: "Kind",
    },
    { env: { SWELL_WORKLOAD_NAME: "Worker_1" }, variable: "SWELL_WORKLOAD_NAME", says: "DNS" },
    {
      env: { ...minimal, SWELL_METRIC_REQUEST_RATE: "a{b=c}" },
      variable: "SWELL_METRIC_REQUEST_RATE",
      says: "double-quoted",
    },
    { env: { ...minimal, PORT: "70000" }, variable: "PORT", says: "0..65535" },
    {
      env: { ...minimal, SWELL_TOKEN: "a", SWELL_TOKEN_FILE: "/t" },
      variable: "SWELL_TOKEN_FILE",
      says: "not both",
    },
    {
      env: { ...minimal, SWELL_LONG_WINDOW: "1s" },
      variable: "SWELL_LONG_WINDOW",
      says: "longer than the short window",
    },
  ])("refuses: $variable ($says)", ({ env, variable, says }) => {
    const parsed = parseAgentConfig(env, machine);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const line = parsed.problems.find((p) => p.startsWith(`${variable}:`));
    expect(line, parsed.problems.join("\n")).toBeDefined();
    expect(line).toContain(says);
  });

  it("a hostname that is no DNS name asks for SWELL_POD_NAME", () => {
    const parsed = parseAgentConfig(minimal, { ...machine, hostname: () => "my_laptop" });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]).toMatch(/^SWELL_POD_NAME: /);
  });
});
