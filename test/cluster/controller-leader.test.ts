// Two controller processes, one Lease: only the leader writes; a report sent to the follower
// reaches the leader; SIGKILL of the leader hands over within the lease duration without any
// decision applied twice; SIGTERM releases the Lease so a successor need not wait.
import { CoordinationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyControllerRbac,
  type ControllerProcess,
  createPolicy,
  createWorkload,
  deploymentReplicas,
  eventsAbout,
  FakeAgent,
  installCrd,
  readyPods,
  reportLoop,
  startController,
  TEST_LEASE,
  tempDir,
  workloadView,
} from "./controller-harness.ts";
import { adminKubeConfig, createTestNamespace, waitFor } from "./kube.ts";

let kc: KubeConfig;
let ns: string;
let kubeconfig: string;
const processes: ControllerProcess[] = [];
const cleanup: (() => Promise<unknown>)[] = [];
let leader: ControllerProcess;
let follower: ControllerProcess;
let agent: FakeAgent;
let rate = 30;
let stopReports: () => Promise<void> = async () => {};

const lease = () =>
  kc
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: "swell-controller", namespace: ns });

async function start(name: string): Promise<ControllerProcess> {
  const p = await startController({ name, namespace: ns, kubeconfig });
  processes.push(p);
  return p;
}

const rescales = async () =>
  (await eventsAbout(kc, ns, "web")).filter((e) => e.reason === "SuccessfulRescale");

beforeAll(async () => {
  kc = adminKubeConfig();
  await installCrd(kc);
  const created = await createTestNamespace(kc, "leader");
  ns = created.name;
  cleanup.push(created.remove);
  const tmp = await tempDir();
  cleanup.push(tmp.remove);
  kubeconfig = await applyControllerRbac(kc, ns, tmp.dir);
  await createWorkload(kc, ns, "web", 1);
  const [pod] = await readyPods(kc, ns, "web", 1);
  if (!pod) throw new Error("no pod");
  agent = await new FakeAgent(pod, "web").init(kc);
  await Promise.all([start("ctl-a"), start("ctl-b")]);
});
afterAll(async () => {
  await stopReports();
  for (const p of processes) await p.stop("SIGKILL");
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

describe("two controller instances", () => {
  it("elect exactly one leader, which publishes its URL on the Lease", async () => {
    const l = await waitFor("a Lease holder", async () => (await lease()).spec?.holderIdentity);
    const found = processes.find((p) => p.name === l);
    const other = processes.find((p) => p.name !== l);
    if (!found || !other) throw new Error(`unknown holder ${l}`);
    leader = found;
    follower = other;
    expect((await lease()).metadata?.annotations?.["swell.dev/leader-url"]).toBe(leader.url);
    expect((await lease()).spec?.leaseDurationSeconds).toBe(TEST_LEASE.durationMs / 1000);
    // Both know who leads.
    await createPolicy(kc, ns, "web", { target: "web", minReplicas: 1, maxReplicas: 6 });
    for (const p of processes) {
      const view = await waitFor(`${p.name} knows the policy`, () =>
        workloadView(p.url, ns, "web"),
      );
      expect(view.leader).toBe(leader.name);
    }
  });

  it("scale through the leader only, from reports sent to the follower", async () => {
    // 30 req/s at 10 per pod: 3 replicas.
    stopReports = reportLoop(
      [agent],
      () => follower.url,
      () => rate,
    );
    await waitFor(
      "web at 3 replicas",
      async () => (await deploymentReplicas(kc, ns, "web")).spec === 3,
      30_000,
    );
    const events = await waitFor("the rescale event", async () => {
      const e = await rescales();
      return e.length > 0 ? e : undefined;
    });
    expect(events.map((e) => e.reportingInstance)).toEqual([leader.name]);
    // The leader got the reports (forwarded); the follower decided too, but applied nothing.
    expect((await workloadView(leader.url, ns, "web")).pods.known).toBe(1);
    const followerView = await workloadView(follower.url, ns, "web");
    expect(followerView.decisions.some((d) => d.applied)).toBe(false);
    const metrics = await (await fetch(`${follower.url}/metrics`)).text();
    expect(metrics).toMatch(/swell_forwarded_requests_total\{outcome="2xx"\} [1-9]/);
  });

  it("hand over within the lease duration when the leader is SIGKILLed, applying no decision twice", async () => {
    const before = await deploymentReplicas(kc, ns, "web");
    const transitions = (await lease()).spec?.leaseTransitions ?? 0;
    const killedAt = Date.now();
    await leader.stop("SIGKILL");
    await waitFor(
      "the follower holding the Lease",
      async () => (await lease()).spec?.holderIdentity === follower.name,
      20_000,
    );
    const handover = Date.now() - killedAt;
    // The follower waits out the lease from the last renewal it saw (at most one retry period
    // before the kill), then takes it at its next retry.
    expect(handover).toBeLessThan(TEST_LEASE.durationMs + 2 * TEST_LEASE.retryPeriodMs + 1000);
    expect((await lease()).spec?.leaseTransitions).toBe(transitions + 1);
    expect((await lease()).metadata?.annotations?.["swell.dev/leader-url"]).toBe(follower.url);

    // Same demand: the new leader reads 3 and has nothing to apply.
    await waitFor("the new leader deciding", async () => {
      const v = await workloadView(follower.url, ns, "web");
      return v.leader === follower.name && v.pods.reporting > 0;
    });
    await new Promise((r) => setTimeout(r, 2000));
    expect(await deploymentReplicas(kc, ns, "web")).toEqual(before);
    expect(await rescales()).toHaveLength(1);

    // New demand: the new leader scales on from where the old one left off.
    rate = 50;
    await waitFor(
      "web at 5 replicas",
      async () => (await deploymentReplicas(kc, ns, "web")).spec === 5,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1000));
    // One chain of sizes, each step written once: the first by the old leader, the rest (the
    // averaging window may take 3 → 5 in more than one step) by the new one.
    const steps = (await rescales()).map((e) => {
      const m = /^New size: (\d+) \(from (\d+)\)/.exec(e.note ?? "");
      return { by: e.reportingInstance, from: Number(m?.[2]), to: Number(m?.[1]) };
    });
    expect(steps[0]).toEqual({ by: leader.name, from: 1, to: 3 });
    expect(steps.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < steps.length; i++) {
      expect(steps[i]?.by).toBe(follower.name);
      expect(steps[i]?.from).toBe(steps[i - 1]?.to);
      expect(steps[i]?.to).toBeGreaterThan(steps[i]?.from ?? 0);
    }
    expect(steps.at(-1)?.to).toBe(5);
    // Every write changed the Deployment's spec once: one generation per step.
    expect((await deploymentReplicas(kc, ns, "web")).generation).toBe(
      (before.generation ?? 0) + steps.length - 1,
    );
    await readyPods(kc, ns, "web", 5);
  });

  it("release the Lease on SIGTERM, so a new instance leads at once", async () => {
    await stopReports();
    expect(await follower.stop("SIGTERM")).toBe(0);
    const released = await lease();
    expect(released.spec?.holderIdentity ?? "").toBe("");
    expect(released.spec?.leaseDurationSeconds).toBe(1);

    const startedAt = Date.now();
    const next = await start("ctl-c");
    await waitFor(
      "ctl-c holding the Lease",
      async () => (await lease()).spec?.holderIdentity === "ctl-c",
    );
    // Far less than the lease duration after it was up: it did not wait out the old lease.
    expect(Date.now() - startedAt).toBeLessThan(TEST_LEASE.durationMs + 5000);
    expect((await workloadView(next.url, ns, "web")).leader).toBe("ctl-c");
  });
});
