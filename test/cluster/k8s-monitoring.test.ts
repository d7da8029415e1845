// k8s/components/monitoring added to the base, as docs/monitoring.md says to: it renders, adds
// only its own objects, and each monitor finds what it is meant to scrape in the rendered pods
// and Services (by label and by port name). The Prometheus Operator's CRDs are not installed in
// the test control plane (the operator is not part of swell), so its objects (PodMonitor,
// ServiceMonitor, PrometheusRule) are checked field by field here, and the alerts' rules by
// promtool in test/unit/k8s/components/monitoring.test.ts; the component's core objects (NetworkPolicy,
// ConfigMap) go through a server-side dry run on the real API server.

import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  allContainers,
  deployTree,
  find,
  type K8sObject,
  kustomize,
  label,
  parseObjects,
  podSpec,
  repoRoot,
  run,
  toolsBin,
} from "./k8s-render.ts";
import { kubeconfigPath } from "./kube.ts";

const OPERATOR_KINDS = ["PodMonitor", "ServiceMonitor", "PrometheusRule"];
let bin: string;
let tree: Awaited<ReturnType<typeof deployTree>>;
let base: K8sObject[];
let withMonitoring: K8sObject[];

async function render(name: string, kustomization: string): Promise<K8sObject[]> {
  const dir = path.join(tree.dir, "k8s", name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "kustomization.yaml"), kustomization);
  return parseObjects(await kustomize(bin, dir));
}

beforeAll(async () => {
  bin = await toolsBin();
  tree = await deployTree();
  base = parseObjects(await kustomize(bin, path.join(tree.dir, "k8s", "base")));
  withMonitoring = await render(
    "test-monitoring",
    "resources: [../base]\ncomponents: [../components/monitoring]\n",
  );
}, 60 * 60_000);
afterAll(async () => {
  await tree?.remove();
});

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const podsSelected = (selector: Record<string, string>) =>
  withMonitoring.filter(
    (o) => o.kind === "Deployment" && matches(selector, o.spec.template.metadata.labels),
  );

describe("components/monitoring on the base", () => {
  it("adds only its own objects, all in the swell namespace, and changes nothing else", () => {
    const added = withMonitoring.filter((o) => !base.some((b) => label(b) === label(o)));
    expect(added.map(label).sort()).toEqual(
      [
        "ConfigMap/swell-grafana-dashboard",
        "NetworkPolicy/swell-controller-metrics",
        "PodMonitor/swell-agents",
        "PodMonitor/swell-services",
        "PrometheusRule/swell",
        "ServiceMonitor/swell-controller",
      ].sort(),
    );
    for (const o of added) expect(o.metadata.namespace, label(o)).toBe("swell");
    for (const b of base)
      expect(find(withMonitoring, b.kind, b.metadata.name), label(b)).toEqual(b);
  });

  it.each([
    ["swell-services", "containers", "http"],
    ["swell-agents", "initContainers", "agent"],
  ])(
    "PodMonitor %s scrapes every scaled service's pods on a port named in %s",
    (name, where, port) => {
      const pm = find(withMonitoring, "PodMonitor", name);
      expect(pm.apiVersion).toBe("monitoring.coreos.com/v1");
      const pods = podsSelected(pm.spec.selector.matchLabels);
      expect(pods.map((d) => d.metadata.name).sort()).toEqual(["api", "worker"]);
      const [endpoint] = pm.spec.podMetricsEndpoints;
      expect(endpoint).toMatchObject({ port, path: "/metrics" });
      for (const d of pods) {
        const ports = (podSpec(d)[where] ?? []).flatMap(
          (c: { ports?: { name: string }[] }) => c.ports?.map((p) => p.name) ?? [],
        );
        expect(ports, `${label(d)} ${where}`).toContain(port);
      }
      // Every target gets the `service` label the dashboard and the alerts group by.
      expect(endpoint.relabelings.map((r: { targetLabel: string }) => r.targetLabel)).toContain(
        "service",
      );
    },
  );

  it("ServiceMonitor swell-controller scrapes the controller's Service on its named port", () => {
    const sm = find(withMonitoring, "ServiceMonitor", "swell-controller");
    const svc = find(withMonitoring, "Service", "swell-controller");
    expect(matches(sm.spec.selector.matchLabels, svc.metadata.labels)).toBe(true);
    const others = withMonitoring.filter(
      (o) =>
        o.kind === "Service" &&
        o !== svc &&
        matches(sm.spec.selector.matchLabels, o.metadata.labels),
    );
    expect(others.map(label)).toEqual([]);
    expect(svc.spec.ports.map((p: { name: string }) => p.name)).toContain(
      sm.spec.endpoints[0].port,
    );
  });

  it("the NetworkPolicy lets Prometheus pods reach the controller's port, nothing more", () => {
    const np = find(withMonitoring, "NetworkPolicy", "swell-controller-metrics");
    const controller = find(withMonitoring, "Deployment", "swell-controller");
    expect(matches(np.spec.podSelector.matchLabels, controller.spec.template.metadata.labels)).toBe(
      true,
    );
    expect(np.spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: {},
            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
          },
        ],
        ports: [{ protocol: "TCP", port: "http" }],
      },
    ]);
    const ports = allContainers(podSpec(controller)).flatMap(
      (c: { ports?: { name: string }[] }) => c.ports?.map((p) => p.name) ?? [],
    );
    expect(ports).toContain("http");
  });

  it("ships the dashboard file unchanged for Grafana's sidecar, and the alerts as written", async () => {
    const cm = find(withMonitoring, "ConfigMap", "swell-grafana-dashboard");
    expect(cm.metadata.labels).toMatchObject({ grafana_dashboard: "1" });
    const file = path.join(repoRoot, "k8s/components/monitoring/dashboards/swell.json");
    expect(cm.data["swell.json"]).toBe(await readFile(file, "utf8"));
    const rule = find(withMonitoring, "PrometheusRule", "swell");
    const source = parse(
      await readFile(path.join(repoRoot, "k8s/components/monitoring/prometheusrule.yaml"), "utf8"),
    );
    expect(rule.spec).toEqual(source.spec);
  });

  it("the API server accepts its NetworkPolicy and ConfigMap (server-side dry run, strict)", async () => {
    const ns = `swell-mon-${randomBytes(3).toString("hex")}`;
    const kubectl = (args: string[], input?: string) =>
      run(path.join(bin, "kubectl"), ["--kubeconfig", kubeconfigPath(), ...args], { input });
    const objs = (
      await render("test-monitoring-ns", `resources: [../test-monitoring]\nnamespace: ${ns}\n`)
    ).filter(
      (o) =>
        label(o) === "NetworkPolicy/swell-controller-metrics" ||
        label(o) === "ConfigMap/swell-grafana-dashboard",
    );
    expect(objs).toHaveLength(2);
    expect(objs.some((o) => OPERATOR_KINDS.includes(o.kind))).toBe(false);
    const created = await kubectl(["create", "namespace", ns]);
    expect(created.code, created.stderr).toBe(0);
    try {
      const r = await kubectl(
        ["apply", "--dry-run=server", "--validate=strict", "-f", "-"],
        objs.map((o) => stringify(o)).join("---\n"),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("swell-controller-metrics");
      expect(r.stdout).toContain("swell-grafana-dashboard");
    } finally {
      await kubectl(["delete", "namespace", ns, "--wait=false"]);
    }
  });
});
