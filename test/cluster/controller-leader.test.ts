// Two controller processes, one Lease: only the leader writes; a report sent to the follower
// reaches the leader; SIGKILL of the leader hands over within the lease duration without any
// decision applied twice; SIGTERM writes the last Events, then releases the Lease so a successor
// need not wait.
import {
  CoordinationV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor as poll } from "../support/wait.ts";
import {
  applyControllerRbac,
  type ControllerProcess,
  createPolicy,
  createWorkload,
  deploymentReplicas,
  eventsAbout,
  GROUP,
  installCrd,
  PLURAL,
  readyPods,
  reportAsPods,
  startController,
  TEST_LEASE,
  tempDir,
  VERSION,
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
let reports: ReturnType<typeof reportAsPods> | undefined;

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

/** The scale steps written, oldest first, from the SuccessfulRescale Events. */
async function steps(): Promise<{ by: string | undefined; from: number; to: number }[]> {
  return (await rescales()).map((e) => {
    const m = /^New size: (\d+) \(from (\d+)\)/.exec(e.note ?? "");
    return { by: e.reportingInstance, from: Number(m?.[2]), to: Number(m?.[1]) };
  });
}

/** One chain of sizes from `from` to `to`, each step written once (no step repeated). */
function expectChain(list: { from: number; to: number }[], from: number, to: number): void {
  expect(list.length).toBeGreaterThan(0);
  expect(list[0]?.from).toBe(from);
  for (let i = 1; i < list.length; i++) expect(list[i]?.from).toBe(list[i - 1]?.to);
  for (const step of list) expect(step.to).toBeGreaterThan(step.from);
  expect(list.at(-1)?.to).toBe(to);
}

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
  await readyPods(kc, ns, "web", 1);
  await Promise.all([start("ctl-a"), start("ctl-b")]);
});
afterAll(async () => {
  await reports?.stop();
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
    await createPolicy(kc, ns, "web", { target: "web", minReplicas: 1, maxReplicas: 3 });
    for (const p of processes) {
      // A follower learns the holder at its next retry after the Lease was created.
      await waitFor(`${p.name} knows the policy and the leader`, async () => {
        const view = await workloadView(p.url, ns, "web");
        return view.leader === leader.name;
      });
    }
  });

  it("scale through the leader only, from reports sent to the follower", async () => {
    // 100 req/s at 10 per pod wants 10 replicas: the sizes are the bounds, 3 now and 5 later,
    // so the steps do not depend on how fast the pods' reports catch up after a scale-up.
    reports = reportAsPods(
      kc,
      ns,
      "web",
      () => follower.url,
      () => 100,
    );
    await waitFor(
      "web at 3 replicas",
      async () => (await deploymentReplicas(kc, ns, "web")).spec === 3,
      30_000,
    );
    // Usually one step; more when the demand reached the averaging window over several ticks.
    const written = await waitFor("the rescale events up to 3", async () => {
      const list = await steps();
      return list.at(-1)?.to === 3 ? list : undefined;
    });
    expectChain(written, 1, 3);
    expect(new Set(written.map((w) => w.by))).toEqual(new Set([leader.name]));
    // The leader got the reports (forwarded); the follower decided too, but applied nothing.
    await waitFor("the leader hearing from the 3 pods", async () => {
      return (await workloadView(leader.url, ns, "web")).pods.reporting === 3;
    });
    const followerView = await workloadView(follower.url, ns, "web");
    expect(followerView.decisions.some((d) => d.applied)).toBe(false);
    const metrics = await (await fetch(`${follower.url}/metrics`)).text();
    expect(metrics).toMatch(/swell_forwarded_requests_total\{outcome="2xx"\} [1-9]/);
  });

  it("hand over within the lease duration when the leader is SIGKILLed, applying no decision twice", async () => {
    const before = await deploymentReplicas(kc, ns, "web");
    const byOldLeader = (await steps()).length;
    const transitions = (await lease()).spec?.leaseTransitions ?? 0;
    const killedAt = Date.now();
    await leader.stop("SIGKILL");
    await waitFor(
      "the follower holding the Lease",
      async () => (await lease()).spec?.holderIdentity === follower.name,
      20_000,
    );
    const handover = Date.now() - killedAt;
    // Meanwhile the follower could not hand reports to anyone: it said so (503, Retry-After)
    // rather than taking them silently; before and after, they were taken (202).
    expect([...(reports?.statuses.keys() ?? [])].sort()).toEqual([202, 503]);
    // The follower waits out the lease from the last renewal it saw (at most one retry period
    // before the kill), then takes it at its next retry.
    expect(handover).toBeLessThan(TEST_LEASE.durationMs + 2 * TEST_LEASE.retryPeriodMs + 1000);
    expect((await lease()).spec?.leaseTransitions).toBe(transitions + 1);
    expect((await lease()).metadata?.annotations?.["swell.dev/leader-url"]).toBe(follower.url);

    // Same demand, same bounds: the new leader reads 3 and has nothing to apply.
    await waitFor("the new leader deciding", async () => {
      const v = await workloadView(follower.url, ns, "web");
      return v.leader === follower.name && v.pods.reporting > 0;
    });
    await new Promise((r) => setTimeout(r, 2000));
    const after = await deploymentReplicas(kc, ns, "web");
    expect([after.spec, after.generation]).toEqual([before.spec, before.generation]);
    expect(await steps()).toHaveLength(byOldLeader);

    // Room to grow (the watch brings the change): the new leader scales on from where the old
    // one left off.
    await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: PLURAL,
        name: "web",
        body: { spec: { maxReplicas: 5 } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await waitFor(
      "web at 5 replicas",
      async () => (await deploymentReplicas(kc, ns, "web")).spec === 5,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1000));
    // One chain of sizes, each step written once: 1 → 3 by the old leader, 3 → 5 by the new one.
    const all = await steps();
    expectChain(all, 1, 5);
    expect(all.slice(byOldLeader).length).toBeGreaterThan(0);
    expect(new Set(all.slice(byOldLeader).map((w) => w.by))).toEqual(new Set([follower.name]));
    // Every write changed the Deployment's spec once: one generation per step.
    expect((await deploymentReplicas(kc, ns, "web")).generation).toBe(
      (before.generation ?? 0) + all.length - byOldLeader,
    );
    await readyPods(kc, ns, "web", 5);
  });

  it("a scale written just before SIGTERM still has its Event; the Lease is released, so a new instance leads at once", async () => {
    // Room for one more step, and the leader stopped the moment it is written: the status
    // writer's next tick (500 ms) would come after its drain.
    const written = (await steps()).length;
    await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: PLURAL,
        name: "web",
        body: { spec: { maxReplicas: 6 } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await poll(
      "web at 6 replicas",
      async () => (await deploymentReplicas(kc, ns, "web")).spec === 6,
      {
        timeoutMs: 30_000,
        everyMs: 20,
      },
    );
    expect(await follower.stop("SIGTERM")).toBe(0);
    await reports?.stop();
    const all = await steps();
    expectChain(all, 1, 6);
    expect(all.slice(written).map((w) => w.by)).toEqual([follower.name]);

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
