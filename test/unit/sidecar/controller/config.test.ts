import { describe, expect, it } from "vitest";
import { parseControllerConfig } from "../../../../sidecar/controller/config.ts";

const machine = { hostname: () => "host-1" };

describe("controller config", () => {
  it("maps the memory backend's defaults to a typed config", () => {
    const r = parseControllerConfig({}, machine);
    expect(r.ok && r.value).toEqual({
      host: "0.0.0.0",
      port: 9090,
      logLevel: "info",
      maxBodyBytes: 16 * 1024,
      limits: {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 5000,
        maxHeaderBytes: 16_384,
        maxConnections: 10_000,
        maxConnectionAgeMs: 15_000,
      },
      shutdownDelayMs: 1000,
      shutdownTimeoutMs: 5000,
      identity: "host-1",
      policiesFile: "swell.local.yaml",
      token: undefined,
      kubernetes: undefined,
      podTtlMs: 5000,
      tickMs: 1000,
      reportMaxAgeMs: 30_000,
      reportsPerPodPerSecond: 20,
      observedWorkloads: 0,
    });
  });

  it("maps the kubernetes backend's settings, with client-go's lease timings by default", () => {
    const r = parseControllerConfig(
      { SWELL_BACKEND: "kubernetes", POD_NAMESPACE: "swell", POD_IP: "10.0.0.7" },
      machine,
    );
    expect(r.ok && r.value.kubernetes).toEqual({
      advertiseUrl: "http://10.0.0.7:9090",
      watchNamespace: undefined,
      lease: {
        name: "swell-controller",
        namespace: "swell",
        durationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      },
      tokenAudience: "swell",
      tokenCacheTtlMs: 30_000,
      forwardTimeoutMs: 2_000,
      metricsApi: undefined,
    });
  });

  it.each([
    ["memory: SWELL_IDENTITY, else the host name", {}, "host-1"],
    ["memory: SWELL_IDENTITY", { SWELL_IDENTITY: "ctl", POD_NAME: "pod-a" }, "ctl"],
    [
      "kubernetes: POD_NAME first",
      { SWELL_BACKEND: "kubernetes", SWELL_IDENTITY: "ctl", POD_NAME: "pod-a" },
      "pod-a",
    ],
    [
      "kubernetes: then SWELL_IDENTITY",
      { SWELL_BACKEND: "kubernetes", SWELL_IDENTITY: "ctl" },
      "ctl",
    ],
  ])("identity, %s", (_case, env, identity) => {
    const r = parseControllerConfig(env, machine);
    expect(r.ok && r.value.identity).toBe(identity);
  });

  it.each([
    [
      "SWELL_ADVERTISE_URL wins, without a trailing slash",
      { SWELL_ADVERTISE_URL: "http://ctl.swell:9090/", POD_IP: "10.0.0.7" },
      "http://ctl.swell:9090",
    ],
    ["POD_IP and PORT", { POD_IP: "10.0.0.7", PORT: "8000" }, "http://10.0.0.7:8000"],
    ["an IPv6 POD_IP in brackets", { POD_IP: "fd00::7" }, "http://[fd00::7]:9090"],
    ["nothing without POD_IP", {}, undefined],
    [
      "nothing for port 0 (not known before listening)",
      { POD_IP: "10.0.0.7", PORT: "0" },
      undefined,
    ],
  ])("advertised URL: %s", (_case, env, url) => {
    const r = parseControllerConfig({ SWELL_BACKEND: "kubernetes", ...env }, machine);
    expect(r.ok && r.value.kubernetes?.advertiseUrl).toBe(url);
  });

  it("SWELL_LEASE_NAMESPACE comes before POD_NAMESPACE; neither leaves it to the pod's", () => {
    const ns = (env: Record<string, string>) => {
      const r = parseControllerConfig({ SWELL_BACKEND: "kubernetes", ...env }, machine);
      return r.ok ? r.value.kubernetes?.lease.namespace : "refused";
    };
    expect(ns({ SWELL_LEASE_NAMESPACE: "a", POD_NAMESPACE: "b" })).toBe("a");
    expect(ns({ POD_NAMESPACE: "b" })).toBe("b");
    expect(ns({})).toBeUndefined();
  });

  it("serves the metrics API only when SWELL_METRICS_API_PORT is set, and only in a cluster", () => {
    const r = parseControllerConfig(
      {
        SWELL_BACKEND: "kubernetes",
        POD_NAMESPACE: "swell",
        SWELL_METRICS_API_PORT: "6443",
        SWELL_METRICS_API_APISERVICES:
          "v1beta2.custom.metrics.k8s.io, v1beta1.external.metrics.k8s.io",
      },
      machine,
    );
    expect(r.ok && r.value.kubernetes?.metricsApi).toEqual({
      host: "0.0.0.0",
      port: 6443,
      namespace: "swell",
      service: "swell-controller-metrics",
      secret: "swell-controller-metrics-tls",
      apiServices: ["v1beta2.custom.metrics.k8s.io", "v1beta1.external.metrics.k8s.io"],
    });
    expect(r.ok && r.value.observedWorkloads).toBe(1000);
    const local = parseControllerConfig({ SWELL_METRICS_API_PORT: "6443" }, machine);
    expect(local.ok ? [] : local.problems).toEqual([
      'SWELL_METRICS_API_PORT: expected only with SWELL_BACKEND=kubernetes, got "6443"',
    ]);
  });

  it("passes on the schema's problems, naming the variable", () => {
    const r = parseControllerConfig({ SWELL_TICK: "often", PORT: "x" }, machine);
    expect(r.ok ? [] : r.problems.map((p) => p.split(":")[0]).sort()).toEqual([
      "PORT",
      "SWELL_TICK",
    ]);
  });
});
