// k8s/: every kustomization renders (kustomize inside the kubectl that tools/skaffold/build.sh
// builds), the rendered objects are production-shaped (checked field by field), and the real
// API server accepts every object of every overlay in a server-side dry run with strict field
// validation and without a Pod Security warning.

import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseDurationMs } from "../../services/kit/config.ts";
import { AGENT_NODE_FLAGS } from "../../sidecar/agent/node-flags.ts";
import { ScalingPolicy } from "../../sidecar/protocol/policy.ts";
import {
  allContainers,
  deployTree,
  find,
  type K8sObject,
  KUSTOMIZATIONS,
  kustomize,
  label,
  parseObjects,
  podSpec,
  repoRoot,
  run,
  toolsBin,
} from "./k8s-render.ts";
import { kubeconfigPath } from "./kube.ts";

let bin: string;
let tree: Awaited<ReturnType<typeof deployTree>>;
const rendered = new Map<string, K8sObject[]>();
const objects = (k: string): K8sObject[] => {
  const o = rendered.get(k);
  if (!o) throw new Error(`${k} was not rendered`);
  return o;
};
const SERVICES = ["api", "worker"] as const;

beforeAll(async () => {
  bin = await toolsBin();
  tree = await deployTree();
  for (const k of KUSTOMIZATIONS) {
    rendered.set(k, parseObjects(await kustomize(bin, path.join(tree.dir, "k8s", k))));
  }
}, 60 * 60_000);
afterAll(async () => {
  await tree?.remove();
});

const workloads = (objs: K8sObject[]) => objs.filter((o) => podSpec(o) !== undefined);
const envOf = (
  c: {
    env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  },
  name: string,
) => c.env?.find((e) => e.name === name);
const configMap = (objs: K8sObject[], ref: string) => {
  const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === ref);
  if (!cm) throw new Error(`envFrom names ConfigMap ${ref}, which is not rendered`);
  return cm.data as Record<string, string>;
};
const podSpecLabels = (objs: K8sObject[], deployment: string) =>
  find(objs, "Deployment", deployment).spec.selector.matchLabels;
const durationS = (raw: string | undefined) => (parseDurationMs(raw ?? "") ?? Number.NaN) / 1000;

describe("rendered manifests", () => {
  it.each(KUSTOMIZATIONS)(
    "%s renders, every object in the swell namespace or cluster-wide (the metrics API's reader binding in kube-system)",
    (k) => {
      const objs = objects(k);
      expect(objs.length).toBeGreaterThan(15);
      const clusterScoped = new Set([
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "APIService",
      ]);
      // Reading the front proxy's CA takes a RoleBinding where it lives.
      const inKubeSystem = (o: K8sObject) =>
        o.kind === "RoleBinding" && o.metadata.name === "swell-controller-auth-reader";
      for (const o of objs) {
        if (clusterScoped.has(o.kind)) continue;
        expect(o.metadata.namespace, label(o)).toBe(inKubeSystem(o) ? "kube-system" : "swell");
      }
    },
  );

  it.each(KUSTOMIZATIONS)(
    "%s: every pod is restricted (non-root, seccomp, no escalation, no capabilities, read-only root) and sized",
    (k) => {
      const pods = workloads(objects(k));
      expect(pods.length).toBeGreaterThanOrEqual(3);
      for (const w of pods) {
        const spec = podSpec(w);
        expect(spec.securityContext, label(w)).toMatchObject({
          runAsNonRoot: true,
          seccompProfile: { type: "RuntimeDefault" },
        });
        expect(spec.securityContext.runAsUser, label(w)).toBeGreaterThan(0);
        for (const c of allContainers(spec)) {
          const where = `${label(w)} container ${c.name}`;
          expect(c.securityContext, where).toMatchObject({
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
          });
          // Only dev's app containers are writable: skaffold syncs sources into them.
          const synced = k === "overlays/dev" && spec.containers.includes(c);
          expect(c.securityContext.readOnlyRootFilesystem, where).toBe(!synced);
          for (const kind of ["requests", "limits"]) {
            expect(c.resources?.[kind], `${where} ${kind}`).toMatchObject({
              cpu: expect.anything(),
              memory: expect.anything(),
            });
          }
          expect(c.image, where).toBe("swell");
        }
      }
    },
  );

  it.each(KUSTOMIZATIONS)("%s: every program a container runs exists in the repo", async (k) => {
    for (const w of workloads(objects(k))) {
      for (const c of allContainers(podSpec(w))) {
        const program = (c.args as string[]).find((a) => /\.(js|ts)$/.test(a));
        expect(program, `${label(w)} ${c.name} names no program`).toBeDefined();
        // dist/<dir>/main.js is compiled from <dir>/main.ts; dev runs the .ts itself.
        const source = (program ?? "").replace(/^dist\//, "").replace(/\.js$/, ".ts");
        await expect(readFile(path.join(repoRoot, source), "utf8")).resolves.toContain("import");
      }
    }
  });

  it.each(["base", "overlays/dev", "overlays/load"])(
    "%s: api and worker carry the agent as a native sidecar, with identity and a swell token",
    (k) => {
      const objs = objects(k);
      for (const name of SERVICES) {
        const d = find(objs, "Deployment", name);
        const spec = podSpec(d);
        const agent = spec.initContainers?.find((c: { name: string }) => c.name === "swell-agent");
        expect(agent, `${name} has no swell-agent`).toBeDefined();
        expect(agent.restartPolicy).toBe("Always");
        // The node flags the local stack and the benchmark run the agent with.
        expect(agent.args.slice(0, -1), `${name} swell-agent node flags`).toEqual(AGENT_NODE_FLAGS);
        for (const [env, field] of [
          ["SWELL_POD_NAME", "metadata.name"],
          ["SWELL_POD_NAMESPACE", "metadata.namespace"],
          ["SWELL_POD_UID", "metadata.uid"],
          ["SWELL_WORKLOAD_NAMESPACE", "metadata.namespace"],
        ]) {
          expect(envOf(agent, env ?? "")?.valueFrom, `${name} ${env}`).toEqual({
            fieldRef: { fieldPath: field },
          });
        }
        // The workload name comes from a pod label, which must name this Deployment.
        const workloadLabel = /^metadata\.labels\['(.+)'\]$/.exec(
          envOf(agent, "SWELL_WORKLOAD_NAME")?.valueFrom?.fieldRef?.fieldPath ?? "",
        )?.[1];
        expect(spec && d.spec.template.metadata.labels[workloadLabel ?? ""]).toBe(name);

        // The token file lies in a projected ServiceAccount token of audience swell.
        const tokenFile = envOf(agent, "SWELL_TOKEN_FILE")?.value ?? "";
        const mount = agent.volumeMounts.find(
          (m: { mountPath: string }) => path.posix.dirname(tokenFile) === m.mountPath,
        );
        expect(mount, `${name}: no volume at ${tokenFile}`).toBeDefined();
        const volume = spec.volumes.find((v: { name: string }) => v.name === mount.name);
        const source = volume?.projected?.sources?.[0]?.serviceAccountToken;
        expect(source).toMatchObject({ audience: "swell", path: path.posix.basename(tokenFile) });
        expect(source.expirationSeconds).toBeGreaterThanOrEqual(600);
        // Only the agent's token: the app talks to no Kubernetes API.
        expect(spec.automountServiceAccountToken).toBe(false);
        expect(find(objs, "ServiceAccount", spec.serviceAccountName)).toBeDefined();
        // Agents reach the controller by its Service.
        const agentEnv = configMap(objs, agent.envFrom[0].configMapRef.name);
        const controller = find(objs, "Service", "swell-controller");
        expect(agentEnv.SWELL_CONTROLLER_URL).toBe(
          `http://${controller.metadata.name}:${controller.spec.ports[0].port}`,
        );
      }
    },
  );

  it.each(SERVICES)(
    "base: %s has probes, settings from a ConfigMap and a Secret, and time to drain",
    (name) => {
      const objs = objects("base");
      const spec = podSpec(find(objs, "Deployment", name));
      const app = spec.containers.find((c: { name: string }) => c.name === name);
      expect(app.startupProbe.httpGet).toMatchObject({ path: "/healthz", port: "http" });
      expect(app.livenessProbe.httpGet).toMatchObject({ path: "/healthz", port: "http" });
      expect(app.readinessProbe.httpGet).toMatchObject({ path: "/readyz", port: "http" });
      const refs = app.envFrom as {
        configMapRef?: { name: string };
        secretRef?: { name: string };
      }[];
      const cmName = refs.find((r) => r.configMapRef)?.configMapRef?.name ?? "";
      const secretName = refs.find((r) => r.secretRef)?.secretRef?.name ?? "";
      const settings = configMap(objs, cmName);
      expect(find(objs, "Secret", secretName)).toBeDefined();
      // The kit's drain (SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT), then the agent's leaving report.
      const agent = spec.initContainers.find((c: { name: string }) => c.name === "swell-agent");
      const agentSettings = configMap(objs, agent.envFrom[0].configMapRef.name);
      const needed =
        durationS(settings.SHUTDOWN_DELAY) +
        durationS(settings.SHUTDOWN_TIMEOUT) +
        durationS(agentSettings.SHUTDOWN_TIMEOUT);
      expect(needed).toBeGreaterThan(0);
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(needed);
      // The Service reaches the app's port.
      const svc = find(objs, "Service", name);
      expect(svc.spec.selector).toEqual({ "app.kubernetes.io/name": name });
      expect(svc.spec.ports[0].targetPort).toBe("http");
    },
  );

  it("base: the controller runs twice on different nodes under a disruption budget, with its ServiceAccount", () => {
    const objs = objects("base");
    const d = find(objs, "Deployment", "swell-controller");
    expect(d.spec.replicas).toBe(2);
    const spec = podSpec(d);
    expect(spec.topologySpreadConstraints).toEqual([
      expect.objectContaining({
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: d.spec.selector.matchLabels },
      }),
    ]);
    const pdb = find(objs, "PodDisruptionBudget", "swell-controller");
    expect(pdb.spec.selector).toEqual(d.spec.selector);
    expect(pdb.spec.maxUnavailable).toBe(1);
    // Its ServiceAccount (rbac.yaml) is bound to its ClusterRole and its leader-election Role.
    expect(find(objs, "ServiceAccount", spec.serviceAccountName).metadata.namespace).toBe("swell");
    const subject = { kind: "ServiceAccount", name: spec.serviceAccountName, namespace: "swell" };
    for (const kind of ["ClusterRoleBinding", "RoleBinding"]) {
      const bindings = objs.filter((o) => o.kind === kind);
      expect(bindings.length, kind).toBeGreaterThan(0);
      for (const b of bindings) expect(b.subjects, label(b)).toContainEqual(subject);
    }
    const env = configMap(objs, spec.containers[0].envFrom[0].configMapRef.name);
    expect(env.SWELL_BACKEND).toBe("kubernetes");
    for (const [env, field] of [
      ["POD_NAME", "metadata.name"],
      ["POD_NAMESPACE", "metadata.namespace"],
      ["POD_IP", "status.podIP"],
    ]) {
      expect(envOf(spec.containers[0], env ?? "")?.valueFrom, env).toEqual({
        fieldRef: { fieldPath: field },
      });
    }
  });

  it.each(KUSTOMIZATIONS)(
    "%s: the leader-election Role names the controller's Lease as it is (no generated name took it)",
    (k) => {
      const objs = objects(k);
      const role = find(objs, "Role", "swell-controller-leader-election");
      const named = role.rules.flatMap((r: { resourceNames?: string[] }) => r.resourceNames ?? []);
      const controller = podSpec(find(objs, "Deployment", "swell-controller")).containers[0];
      const settings = configMap(objs, controller.envFrom[0].configMapRef.name);
      // SWELL_LEASE_NAME's default (sidecar/controller/config.ts) when the manifests leave it.
      expect(named).toEqual([settings.SWELL_LEASE_NAME ?? "swell-controller"]);
    },
  );

  it("base: one ScalingPolicy per service, valid by swell's schema, with longer windows than the local demo", async () => {
    const objs = objects("base");
    const local = parseObjects(await readFile(path.join(repoRoot, "swell.local.yaml"), "utf8"));
    for (const name of SERVICES) {
      const o = find(objs, "ScalingPolicy", name);
      const parsed = ScalingPolicy.safeParse({ ...o, metadata: { name, namespace: "swell" } });
      expect(parsed.error?.issues ?? [], name).toEqual([]);
      const spec = parsed.data?.spec;
      expect(spec?.targetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name });
      expect(find(objs, "Deployment", name).spec.replicas).toBeUndefined(); // the policy owns it
      const demo = find(local, "ScalingPolicy", name).spec;
      expect(spec?.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThan(
        demo.behavior.scaleDown.stabilizationWindowSeconds,
      );
      expect(spec?.windowSeconds).toBeGreaterThan(demo.windowSeconds ?? 10);
      expect(spec?.minReplicas).toBeGreaterThanOrEqual(2);
    }
  });

  it("base: NetworkPolicies deny ingress but to service ports, and let only agents reach the controller", () => {
    const objs = objects("base");
    const deny = find(objs, "NetworkPolicy", "default-deny-ingress");
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    const ctl = find(objs, "NetworkPolicy", "swell-controller");
    const ctlPod = podSpec(find(objs, "Deployment", "swell-controller"));
    expect(ctl.spec.ingress).toHaveLength(1);
    expect(ctl.spec.ingress[0].ports).toEqual([
      { protocol: "TCP", port: ctlPod.containers[0].ports[0].name },
    ]);
    const agentPeer = ctl.spec.ingress[0].from.find(
      (f: { namespaceSelector?: object }) => f.namespaceSelector,
    );
    for (const name of SERVICES) {
      const labels = find(objs, "Deployment", name).spec.template.metadata.labels;
      for (const [key, value] of Object.entries(agentPeer.podSelector.matchLabels)) {
        expect(labels[key], `${name} pods carry ${key}`).toBe(value);
      }
    }
    // A follower forwards reports to the leader: the replicas reach each other.
    expect(ctl.spec.ingress[0].from).toContainEqual({
      podSelector: { matchLabels: podSpecLabels(objs, "swell-controller") },
    });
    const services = find(objs, "NetworkPolicy", "services");
    expect(services.spec.ingress).toEqual([
      {
        ports: [
          { protocol: "TCP", port: "http" },
          { protocol: "TCP", port: 9091 },
        ],
      },
    ]);
  });

  it("dev: one replica each, debug logs, no shutdown delay, sources under node --watch, policies in dryRun", () => {
    const objs = objects("overlays/dev");
    for (const name of [...SERVICES, "swell-controller"]) {
      const d = find(objs, "Deployment", name);
      expect(d.spec.replicas, name).toBe(1);
      const app = podSpec(d).containers[0];
      expect(app.args[0]).toBe("--watch");
      expect(app.args[1]).toMatch(/\.ts$/);
      expect(configMap(objs, app.envFrom[0].configMapRef.name).LOG_LEVEL).toBe("debug");
    }
    // node --watch waits for the old process's graceful exit: no readiness-drop delay in dev.
    for (const name of SERVICES) {
      const app = podSpec(find(objs, "Deployment", name)).containers[0];
      expect(configMap(objs, app.envFrom[0].configMapRef.name).SHUTDOWN_DELAY, name).toBe("0s");
    }
    // skaffold's sync (tar x) writes into the synced file, so node --watch keeps seeing it.
    for (const name of [...SERVICES, "swell-controller"]) {
      const app = podSpec(find(objs, "Deployment", name)).containers[0];
      expect(app.env, name).toContainEqual({ name: "TAR_OPTIONS", value: "--overwrite" });
    }
    for (const name of SERVICES) expect(find(objs, "ScalingPolicy", name).spec.mode).toBe("dryRun");
  });

  /** Each service's HPA in an overlay with no ScalingPolicy: on the same target and bounds. */
  const hpasInPlaceOfPolicies = (overlay: string) => {
    const objs = objects(overlay);
    const base = objects("base");
    expect(objs.filter((o) => o.kind === "ScalingPolicy")).toEqual([]);
    return SERVICES.map((name) => {
      const hpa = find(objs, "HorizontalPodAutoscaler", name);
      expect(hpa.apiVersion).toBe("autoscaling/v2");
      expect(hpa.metadata.namespace).toBe("swell");
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name });
      const policy = find(base, "ScalingPolicy", name).spec;
      expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([
        policy.minReplicas,
        policy.maxReplicas,
      ]);
      return { name, hpa, policy, objs };
    });
  };

  it("hpa: autoscaling/v2 HPAs on swell's signals (type Pods), the policies' targets, agents kept", () => {
    const objs = objects("overlays/hpa");
    for (const { name, hpa, policy } of hpasInPlaceOfPolicies("overlays/hpa")) {
      // The same signals with the same per-pod targets as the ScalingPolicy.
      expect(
        hpa.spec.metrics.map(
          (m: {
            type: string;
            pods: { metric: { name: string }; target: { type: string; averageValue: string } };
          }) => [
            m.type,
            m.pods.metric.name,
            m.pods.target.type,
            Number(m.pods.target.averageValue),
          ],
        ),
      ).toEqual(
        policy.metrics.map((m: { name: string; averageValue: number }) => [
          "Pods",
          m.name,
          "AverageValue",
          m.averageValue,
        ]),
      );
      expect(hpa.spec.behavior).toEqual(policy.behavior);
      const spec = podSpec(find(objs, "Deployment", name));
      expect(allContainers(spec).map((c) => c.name)).toContain("swell-agent");
    }
    // Registered as an aggregated API, verified by a caBundle the controller sets (no skip).
    for (const name of [
      "v1beta2.custom.metrics.k8s.io",
      "v1beta1.custom.metrics.k8s.io",
      "v1beta1.external.metrics.k8s.io",
    ]) {
      const a = find(objs, "APIService", name);
      expect(a.spec.insecureSkipTLSVerify).toBeUndefined();
      expect(a.spec.service).toEqual({
        name: "swell-controller-metrics",
        namespace: "swell",
        port: 443,
      });
    }
    find(objs, "Service", "swell-controller-metrics");
    const controller = podSpec(find(objs, "Deployment", "swell-controller")).containers[0];
    expect(controller.env).toContainEqual({ name: "SWELL_METRICS_API_PORT", value: "6443" });
    // The front proxy's CA is read in kube-system: that binding must stay there.
    expect(find(objs, "RoleBinding", "swell-controller-auth-reader").metadata.namespace).toBe(
      "kube-system",
    );
  });

  it("hpa-cpu: the same services under autoscaling/v2 HPAs on CPU, without ScalingPolicies or agents", () => {
    for (const { name, hpa, objs } of hpasInPlaceOfPolicies("overlays/hpa-cpu")) {
      expect(hpa.spec.metrics[0].resource.name).toBe("cpu");
      const spec = podSpec(find(objs, "Deployment", name));
      expect(allContainers(spec).map((c) => c.name)).toEqual([name]);
      expect(spec.volumes.map((v: { name: string }) => v.name)).toEqual(["tmp"]);
    }
  });

  it.each(["overlays/load", "overlays/hpa-load"])(
    "%s: a Job runs the load generator against the api and worker Services",
    (k) => {
      const objs = objects(k);
      const job = find(objs, "Job", "load");
      const targets = podSpec(job).containers.map((c: { args: string[] }) => {
        expect(c.args[0]).toBe("dist/tools/load/main.js");
        const target = c.args.find((a) => a.startsWith("--target="))?.slice("--target=".length);
        return new URL(target ?? "").hostname;
      });
      expect(targets.sort()).toEqual(["api", "worker"]);
      for (const t of targets) expect(find(objs, "Service", t)).toBeDefined();
    },
  );
});

describe("server-side dry run, strict field validation", () => {
  // Each kustomization is rendered once more into a namespace of this test's own (kustomize
  // renames the Namespace too), so nothing collides with other tests. The namespace and the
  // CRD are created for real: a dry run creates neither, and the objects need both.
  const ns = `swell-dry-${randomBytes(3).toString("hex")}`;
  const kubectl = (args: string[], input?: string) =>
    run(path.join(bin, "kubectl"), ["--kubeconfig", kubeconfigPath(), ...args], { input });
  const renderIn = async (k: string) => {
    const dir = path.join(tree.dir, "k8s", `test-${k.replace("/", "-")}`);
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, "kustomization.yaml"),
      `resources: [../${k}]\nnamespace: ${ns}\n`,
    );
    return parseObjects(await kustomize(bin, dir));
  };
  // Other tests create the CRD and the controller's ClusterRole without kubectl; applying over
  // them warns that kubectl's bookkeeping annotation is missing, which is no fault of k8s/.
  const problems = (stderr: string) =>
    stderr
      .split("\n")
      .filter(
        (l) => l && !/is missing the kubectl\.kubernetes\.io\/last-applied-configuration/.test(l),
      );
  const yamlOf = (objs: K8sObject[]) => objs.map((o) => stringify(o)).join("---\n");

  beforeAll(async () => {
    const base = await renderIn("base");
    const prerequisites = base.filter(
      (o) => o.kind === "Namespace" || o.kind === "CustomResourceDefinition",
    );
    expect(prerequisites.map((o) => o.kind).sort()).toEqual([
      "CustomResourceDefinition",
      "Namespace",
    ]);
    const applied = await kubectl(["apply", "-f", "-"], yamlOf(prerequisites));
    expect(problems(applied.stderr)).toEqual([]);
    const established = await kubectl([
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      `crd/${prerequisites.find((o) => o.kind === "CustomResourceDefinition")?.metadata.name}`,
    ]);
    expect(established.code, established.stderr).toBe(0);
  });
  afterAll(async () => {
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it.each(KUSTOMIZATIONS)("%s: every object accepted, no warning", async (k) => {
    const objs = await renderIn(k);
    const r = await kubectl(
      ["apply", "--dry-run=server", "--validate=strict", "-f", "-"],
      yamlOf(objs),
    );
    expect(problems(r.stderr)).toEqual([]); // no error, no warning (a Pod Security violation is one)
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.filter((l) => l.endsWith("(server dry run)"))).toHaveLength(objs.length);
  });

  // The proof that the dry run is strict: one typo each, and the server names it.
  it.each([
    {
      what: "a misspelt container field",
      kind: "Deployment",
      name: "api",
      edit: (o: K8sObject) => {
        o.spec.template.spec.containers[0].imagePullPolice = "Always";
      },
      error: /unknown field "spec\.template\.spec\.containers\[0\]\.imagePullPolice"/,
    },
    {
      what: "a misspelt ScalingPolicy field",
      kind: "ScalingPolicy",
      name: "worker",
      edit: (o: K8sObject) => {
        o.spec.minReplica = 3;
      },
      error: /unknown field "spec\.minReplica"/,
    },
    {
      what: "a privileged sidecar (Pod Security restricted)",
      kind: "Deployment",
      name: "worker",
      edit: (o: K8sObject) => {
        o.spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation = true;
      },
      error:
        /would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "swell-agent"/,
    },
  ])("refused or warned: $what", async ({ kind, name, edit, error }) => {
    const objs = await renderIn("base");
    const target = objs.find((o) => o.kind === kind && o.metadata.name === name);
    if (!target) throw new Error(`no ${kind} ${name}`);
    edit(target);
    const r = await kubectl(
      ["apply", "--dry-run=server", "--validate=strict", "-f", "-"],
      yamlOf([target]),
    );
    expect(r.stderr).toMatch(error);
  });
});
