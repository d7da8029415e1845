// Controller failover on the real node: with the load Job driving the api and the worker and the
// controller scaling them, `kubectl delete pod` of the leading controller. The kubelet's SIGTERM
// makes it release the Lease; another controller (the other replica, or the Deployment's
// replacement pod when its first round comes first) must take over within the Lease's duration,
// apply no scale step a second time, and have every Ready pod's reports at once (followers
// forward reports to the leader and keep a copy). One file, in order: each test uses what the
// previous one left, and the last one removes everything the file deployed.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  type V1Deployment,
  type V1Lease,
  type V1Pod,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseDocument } from "yaml";
import { deployTree, type RunResult, run, toolsBin } from "../cluster/k8s-render.ts";
import { adminKubeConfig, kubeconfigPath, waitFor } from "../cluster/kube.ts";
import {
  type Delivery,
  followLog,
  type LogLine,
  parseDelivery,
  parseLog,
  recordWatch,
  type Seen,
} from "./recorders.ts";
import { isReady, NS, output, podsOf, skaffold as skaffoldIn } from "./skaffold.ts";

const SCALED = ["api", "worker"] as const;
/** The agents' SWELL_REPORT_INTERVAL in k8s/base (2 s). */
const REPORT_INTERVAL_MS = 2_000;
/** Beyond the Lease duration: the watch's delivery and this busy 2-core machine. */
const TAKEOVER_MARGIN_MS = 3_000;
/** Beyond two report intervals: the same. */
const FRESH_MARGIN_MS = 2_000;

let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let tree: Awaited<ReturnType<typeof deployTree>>;
let home: string;
let bin: string;

beforeAll(async () => {
  bin = await toolsBin();
  tree = await deployTree();
  home = await mkdtemp(path.join(tmpdir(), "swell-node-home-"));
  kc = adminKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
}, 60 * 60_000);

afterAll(async () => {
  stopRecording();
  // Everything this file deployed goes, namespace included, so the next file starts clean.
  if (tree) {
    const r = await skaffold(["delete"], 5 * 60_000);
    if (r.code !== 0) console.error(`failover: skaffold delete: ${output(r)}`);
    await waitFor(
      `namespace ${NS} gone`,
      async () => (await core.listNamespace()).items.every((n) => n.metadata?.name !== NS),
      180_000,
    );
    await tree.remove();
  }
  if (home) await rm(home, { recursive: true, force: true });
}, 10 * 60_000);

const skaffold = (args: string[], timeoutMs: number) =>
  skaffoldIn({ bin, home, dir: tree.dir }, args, timeoutMs);

function kubectl(args: string[], input?: string): Promise<RunResult> {
  return run(path.join(bin, "kubectl"), [`--kubeconfig=${kubeconfigPath()}`, "-n", NS, ...args], {
    ...(input !== undefined ? { input } : {}),
  });
}

const pods = (app: string) => podsOf(core, app);

async function readyPods(): Promise<V1Pod[]> {
  return (await Promise.all(SCALED.map(pods))).flat().filter(isReady);
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return (await res.json()) as T;
}

async function lease(): Promise<V1Lease> {
  return kc
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: "swell-controller", namespace: NS });
}

async function delivery(p: V1Pod): Promise<Delivery> {
  const res = await fetch(`http://${p.status?.podIP}:9091/metrics`, {
    signal: AbortSignal.timeout(5_000),
  });
  return parseDelivery(await res.text());
}

/** A scale write, as the controller that made it logged it ("scaled"). */
interface Write {
  at: number;
  by: string;
  workload: string;
  from: number;
  to: number;
}

const writesIn = (lines: LogLine[], by: string, since: number): Write[] =>
  lines
    .filter((l) => l.msg === "scaled" && Date.parse(l.time) >= since)
    .map((l) => ({
      at: Date.parse(l.time),
      by,
      workload: String(l.workload).split("/")[1] ?? "",
      from: Number(l.from),
      to: Number(l.to),
    }));

const timeOf = (lines: LogLine[], msg: string) => {
  const line = lines.find((l) => l.msg === msg);
  return line ? Date.parse(line.time) : undefined;
};

// What the tests share, in order.
let controllers: string[] = [];
let leader = "";
/** The controller pod that was not leading when the leader was deleted. */
let otherReplica = "";
/** Who took the Lease after the deletion: the other replica, or the leader's replacement pod. */
let successor = "";
let recordStart = 0;
let deletedAt = 0;
let takeoverAt = 0;
let leaseDurationMs = 0;
let deployments: { seen: Seen<V1Deployment>[]; stop: () => void } | undefined;
let leases: { seen: Seen<V1Lease>[]; stop: () => void } | undefined;
let leaderLog: Awaited<ReturnType<typeof followLog>> | undefined;
let before = new Map<string, Delivery>();
let readyAtTakeover: V1Pod[] = [];

function stopRecording(): void {
  deployments?.stop();
  leases?.stop();
  leaderLog?.stop();
}

describe("controller failover on a real node", () => {
  it("skaffold run deploys; api and worker at their minReplicas, two controllers, one holds the Lease", async () => {
    const r = await skaffold(
      [
        "run",
        "--profile=build-host-network",
        `--default-repo=${inject("defaultRepo")}`,
        "--status-check=true",
        "--port-forward=off",
      ],
      25 * 60_000,
    );
    expect(r.code, output(r)).toBe(0);
    for (const name of SCALED) {
      await waitFor(
        `${name}: 2 replicas, all Ready`,
        async () => {
          const d = await apps.readNamespacedDeployment({ name, namespace: NS });
          return d.spec?.replicas === 2 && d.status?.readyReplicas === 2;
        },
        240_000,
      );
    }
    const ready = await waitFor(
      "2 Ready controller pods",
      async () => {
        const list = (await pods("swell-controller")).filter(isReady);
        return list.length === 2 ? list : undefined;
      },
      120_000,
    );
    controllers = ready.map((p) => p.metadata?.name ?? "");
    const held = await waitFor("the Lease held by a controller pod", async () => {
      const l = await lease();
      return controllers.includes(l.spec?.holderIdentity ?? "") ? l : undefined;
    });
    leader = held.spec?.holderIdentity ?? "";
    otherReplica = controllers.find((n) => n !== leader) ?? "";
    leaseDurationMs = (held.spec?.leaseDurationSeconds ?? 0) * 1000;
    expect(leaseDurationMs).toBe(15_000);
  });

  it("under the load Job the controller scales; the leader is deleted and another controller takes the Lease within its duration", async () => {
    // Record from here: every change of the Deployments and of the Lease, and the leader's log.
    deployments = recordWatch<V1Deployment>(kc, `/apis/apps/v1/namespaces/${NS}/deployments`);
    leases = recordWatch<V1Lease>(kc, `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`, {
      fieldSelector: "metadata.name=swell-controller",
    });
    leaderLog = await followLog(kc, { namespace: NS, pod: leader, container: "controller" });
    recordStart = Date.now();

    // The repository's load Job (k8s/components/load, as `skaffold run -p load` deploys it),
    // shortened: a ramp over 150 s instead of a 10 min spike, to 180 req/s on the api (3
    // replicas' worth) and 75 jobs/s on the worker (5), so the worker keeps taking steps after
    // the handover. The image is the one skaffold pushed.
    const api = await apps.readNamespacedDeployment({ name: "api", namespace: NS });
    const image = api.spec?.template.spec?.containers[0]?.image ?? "";
    const job = parseDocument(
      await readFile(path.join(tree.dir, "k8s/components/load/job.yaml"), "utf8"),
    ).toJS() as {
      spec: {
        template: { spec: { containers: { name: string; image: string; args: string[] }[] } };
      };
    };
    const peak: Record<string, number> = { api: 180, worker: 75 };
    for (const c of job.spec.template.spec.containers) {
      c.image = image;
      c.args = c.args.map((a) =>
        a.startsWith("--profile=")
          ? "--profile=ramp"
          : a.startsWith("--duration=")
            ? "--duration=150s"
            : a.startsWith("--rps=")
              ? `--rps=${peak[c.name]}`
              : a,
      );
    }
    const applied = await kubectl(["apply", "-f", "-"], JSON.stringify(job));
    expect(applied.code, output(applied)).toBe(0);

    // The controller is scaling: the leader's first write under the load.
    await waitFor(
      "the leader's first scale write under the load",
      async () => writesIn(leaderLog?.lines ?? [], leader, recordStart).length > 0,
      180_000,
    );
    before = new Map(
      await Promise.all(
        (await readyPods()).map(async (p) => [p.metadata?.uid ?? "", await delivery(p)] as const),
      ),
    );

    deletedAt = Date.now();
    const deleted = await kubectl(["delete", "pod", leader, "--wait=false"]);
    expect(deleted.code, output(deleted)).toBe(0);
    const taken = await waitFor(
      "another controller holding the Lease",
      // The other replica, or the Deployment's replacement for the deleted pod: after the
      // release, whichever candidate's round comes first takes it (a replacement that starts
      // within the other replica's retry period can; seen on this node).
      async () =>
        leases?.seen.find((s) => {
          const holder = s.object.spec?.holderIdentity ?? "";
          return s.at >= deletedAt && holder !== "" && holder !== leader;
        }),
      leaseDurationMs + 30_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await takeoverScene()}`);
    });
    takeoverAt = taken.at;
    successor = taken.object.spec?.holderIdentity ?? "";
    readyAtTakeover = await readyPods();
    const released = leases?.seen.find((s) => s.at >= deletedAt && !s.object.spec?.holderIdentity);
    const takeoverMs = takeoverAt - deletedAt;
    console.error(
      `failover: leader ${leader} deleted; ${successor} (${successor === otherReplica ? "the other replica" : "the replacement pod"}) holds the Lease after ${takeoverMs} ms` +
        ` (released after ${released ? `${released.at - deletedAt} ms` : "—"}; Lease duration ${leaseDurationMs} ms)`,
    );
    expect(takeoverMs).toBeLessThanOrEqual(leaseDurationMs + TAKEOVER_MARGIN_MS);
    // The new term is the successor's: acquired now, one more transition.
    const spec = taken.object.spec;
    expect(Date.parse(String(spec?.acquireTime))).toBeGreaterThanOrEqual(deletedAt - 1000);
    const previous = leases?.seen.filter((s) => s.at < deletedAt).at(-1)?.object.spec;
    expect(spec?.leaseTransitions).toBe((previous?.leaseTransitions ?? 0) + 1);
  });

  it("the new leader has a fresh report from every Ready pod within two report intervals, and no agent dropped one", async () => {
    const url = `http://${(await pods("swell-controller")).find((p) => p.metadata?.name === successor)?.status?.podIP}:9090`;
    const want = readyAtTakeover.map((p) => p.metadata?.uid ?? "");
    expect(want.length).toBeGreaterThanOrEqual(4);
    const fresh = await waitFor(
      "a report sent after the takeover from every pod Ready then",
      async () => {
        const { identity, workloads } = await getJson<{
          identity: string;
          workloads: { name: string; pods: { uid: string; at: number }[] }[];
        }>(`${url}/v1/signals?namespace=${NS}`);
        expect(identity).toBe(successor);
        const after = new Set(
          workloads.flatMap((w) => w.pods.filter((p) => p.at >= takeoverAt).map((p) => p.uid)),
        );
        return want.every((uid) => after.has(uid)) ? Date.now() : undefined;
      },
      30_000,
    );
    const freshMs = fresh - takeoverAt;
    console.error(
      `failover: ${want.length} Ready pods' fresh reports at the new leader ${freshMs} ms after the takeover`,
    );
    expect(freshMs).toBeLessThanOrEqual(2 * REPORT_INTERVAL_MS + FRESH_MARGIN_MS);
    const { leader: named } = await getJson<{ leader: string }>(`${url}/v1/workloads`);
    expect(named).toBe(successor);

    // Delivery as the agents count it: a report that failed during the handover (503, the
    // leader gone) was sent again or replaced by a newer one (newest wins), never refused.
    // A report forwarded by a follower is answered after the leader took it, so an agent may
    // count its 202 a moment after the new leader already shows the report: give it an interval.
    const totals = { unavailable: 0, superseded: 0, accepted: 0 };
    for (const p of await readyPods()) {
      const uid = p.metadata?.uid ?? "";
      const then = before.get(uid) ?? { accepted: 0, unavailable: 0, refused: 0, superseded: 0 };
      const now = await waitFor(
        `${p.metadata?.name}: a report accepted since the deletion`,
        async () => {
          const d = await delivery(p);
          return d.accepted > then.accepted ? d : undefined;
        },
        REPORT_INTERVAL_MS + FRESH_MARGIN_MS,
      );
      expect(now.refused - then.refused, `${p.metadata?.name}: reports refused`).toBe(0);
      totals.unavailable += now.unavailable - then.unavailable;
      totals.superseded += now.superseded - then.superseded;
      totals.accepted += now.accepted - then.accepted;
    }
    console.error(
      `failover: agents across the handover: ${totals.accepted} accepted, ${totals.unavailable} unavailable (sent again), ${totals.superseded} superseded, 0 refused`,
    );
  });

  it("no scale step is applied twice: the terms do not overlap, and every write is one Deployment change and one Event", async () => {
    // The new leader scales too: the load keeps ramping.
    const successorWrites = async () =>
      writesIn(await podLog(successor), successor, recordStart).filter((w) => w.at >= takeoverAt);
    await waitFor(
      "a scale write by the new leader",
      async () => (await successorWrites()).length > 0,
      150_000,
    );
    // The status writer records an Event within a tick of each write; give it two.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await leaderLog?.ended;

    const oldLines = leaderLog?.lines ?? [];
    const live = (await pods("swell-controller")).map((p) => p.metadata?.name ?? "");
    const others = live.filter((n) => n !== successor);
    const writes: Write[] = [
      ...writesIn(oldLines, leader, recordStart),
      ...writesIn(await podLog(successor), successor, recordStart),
      ...(
        await Promise.all(others.map(async (n) => writesIn(await podLog(n), n, recordStart)))
      ).flat(),
    ].sort((a, b) => a.at - b.at);
    stopRecording();
    console.error(
      `failover: writes ${writes.map((w) => `${w.workload} ${w.from}→${w.to} by ${w.by === leader ? "old" : w.by === successor ? "new" : w.by}`).join(", ")}`,
    );

    // Why the new leader wrote what it wrote, from its own decision log.
    const successorUrl = `http://${(await pods("swell-controller")).find((p) => p.metadata?.name === successor)?.status?.podIP}:9090`;
    for (const name of SCALED) {
      const { decisions } = await getJson<{
        decisions: {
          at: string;
          applied: boolean;
          currentReplicas: number;
          desiredReplicas: number;
          reason: string;
        }[];
      }>(`${successorUrl}/v1/workloads/${NS}/${name}/decisions`);
      for (const d of decisions.filter((x) => x.applied)) {
        console.error(
          `failover: new leader ${name} ${d.at} ${d.currentReplicas}→${d.desiredReplicas}: ${d.reason}`,
        );
      }
    }

    // Under a rising load, and within the policies' scale-down stabilization window (300 s,
    // longer than this test) of every step up, no step may be taken back: a new leader that
    // undid the old one's step would scale the same step again when its own evidence catches up.
    for (const w of writes)
      expect(w.to, `${w.workload} ${w.from}→${w.to} by ${w.by}`).toBeGreaterThan(w.from);

    // The terms: the old leader stopped before the new one started, and each wrote only in its own.
    const stoppedAt = timeOf(
      oldLines.filter((l) => Date.parse(l.time) >= deletedAt),
      "stopped leading",
    );
    const successorLines = (await podLog(successor)).filter((l) => Date.parse(l.time) >= deletedAt);
    const startedAt = timeOf(successorLines, "started leading");
    expect(stoppedAt, "the old leader logged 'stopped leading'").toBeDefined();
    expect(startedAt, "the successor logged 'started leading'").toBeDefined();
    expect(stoppedAt ?? 0).toBeLessThanOrEqual(startedAt ?? 0);
    for (const w of writes) {
      if (w.by === leader)
        expect(w.at, "an old leader's write").toBeLessThanOrEqual(stoppedAt ?? 0);
      else expect(w.by, "only the Lease holders write").toBe(successor);
      if (w.by === successor)
        expect(w.at, "a new leader's write").toBeGreaterThanOrEqual(startedAt ?? 0);
    }
    expect(writes.filter((w) => w.by === leader).length).toBeGreaterThan(0);
    expect(writes.filter((w) => w.by === successor).length).toBeGreaterThan(0);

    for (const name of SCALED) {
      const mine = writes.filter((w) => w.workload === name);
      // Each write starts from the size the previous one set: the new leader never re-applies
      // a step from a size it had not yet seen change.
      for (let i = 1; i < mine.length; i++) {
        expect(mine[i]?.from, `${name} write ${i}`).toBe(mine[i - 1]?.to);
      }
      // The API server saw exactly these changes of spec.replicas, in this order.
      const sizes = (deployments?.seen ?? [])
        .filter((s) => s.object.metadata?.name === name)
        .map((s) => s.object.spec?.replicas ?? 0)
        .filter((r, i, all) => i === 0 || r !== all[i - 1]);
      const changes = sizes.slice(1).map((to, i) => `${sizes[i]}→${to}`);
      expect(changes.slice(0, mine.length), `${name}: Deployment spec.replicas changes`).toEqual(
        mine.map((w) => `${w.from}→${w.to}`),
      );
      // Beyond them only steps the new leader took since its log was read, up from the last.
      for (const step of changes.slice(mine.length))
        expect(
          Number(step.split("→")[0]),
          `${name}: a later change ${step}`,
        ).toBeGreaterThanOrEqual(mine.at(-1)?.to ?? 0);
    }

    // One SuccessfulRescale Event per write, from the controller that made it. The status
    // writer records it within a tick or two of the write, so wait for the newest ones.
    const rescaleEvents = async () =>
      (await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS })).items
        .filter(
          (e) =>
            e.reason === "SuccessfulRescale" &&
            e.regarding?.kind === "ScalingPolicy" &&
            Date.parse(String(e.eventTime)) >= recordStart,
        )
        .map((e) => {
          const m = /^New size: (\d+) \(from (\d+)\)/.exec(e.note ?? "");
          return `${e.regarding?.name} ${m?.[2]}→${m?.[1]} by ${e.reportingInstance}`;
        });
    const wanted = writes.map((w) => `${w.workload} ${w.from}→${w.to} by ${w.by}`);
    const rescales = await waitFor(
      "a SuccessfulRescale Event for every write",
      async () => {
        const got = await rescaleEvents();
        return wanted.every((k) => got.includes(k)) ? got : undefined;
      },
      10_000,
    );
    const extra = [...rescales];
    for (const k of wanted) extra.splice(extra.indexOf(k), 1);
    // Nothing twice; beyond the writes only the new leader's steps since its log was read.
    for (const k of extra) {
      const m = /^(\S+) (\d+)→(\d+) by (\S+)$/.exec(k);
      const last = writes.filter((w) => w.workload === m?.[1]).at(-1)?.to ?? 0;
      expect(m?.[4], `a later Event: ${k}`).toBe(successor);
      expect(Number(m?.[2]), `a later Event: ${k}`).toBeGreaterThanOrEqual(last);
    }

    // Each ScalingPolicy's status is the new leader's, with the Deployment's size.
    const custom = kc.makeApiClient(CustomObjectsApi);
    for (const name of SCALED) {
      await waitFor(
        `${name}: ScalingPolicy status by the new leader, at the Deployment's size`,
        async () => {
          const policy = (await custom.getNamespacedCustomObject({
            group: "scaling.swell.dev",
            version: "v1alpha1",
            namespace: NS,
            plural: "scalingpolicies",
            name,
          })) as { status?: { leader?: string; currentReplicas?: number } };
          const d = await apps.readNamespacedDeployment({ name, namespace: NS });
          return (
            policy.status?.leader === successor &&
            policy.status.currentReplicas === d.spec?.replicas
          );
        },
        10_000,
      );
    }
  });
});

/** What a failed takeover needs to be understood: the Lease's history, the controllers' pods and logs. */
async function takeoverScene(): Promise<string> {
  const history = (leases?.seen ?? []).map((s) => {
    const spec = s.object.spec;
    return `  +${s.at - deletedAt} ms: holder=${spec?.holderIdentity || '""'} renew=${spec?.renewTime} duration=${spec?.leaseDurationSeconds}s transitions=${spec?.leaseTransitions}`;
  });
  const all = await core.listNamespacedPod({
    namespace: NS,
    labelSelector: "app.kubernetes.io/name=swell-controller",
  });
  const podLines = all.items.map(
    (p) =>
      `  ${p.metadata?.name} ${p.status?.phase} ready=${isReady(p)} deleting=${Boolean(p.metadata?.deletionTimestamp)}`,
  );
  const tail = (lines: LogLine[]) =>
    lines.slice(-25).map((l) => `    ${l.time} ${l.msg} ${JSON.stringify(l).slice(0, 300)}`);
  const logs: string[] = [`  ${leader} (deleted, followed):`, ...tail(leaderLog?.lines ?? [])];
  for (const p of all.items) {
    const name = p.metadata?.name ?? "";
    if (name === leader) continue;
    const lines = await podLog(name).catch((e: Error) => [
      { time: "", msg: `no log: ${e.message}` } as LogLine,
    ]);
    logs.push(`  ${name}:`, ...tail(lines));
  }
  return [
    "Lease changes since the deletion (test clock):",
    ...history.slice(-30),
    "controller pods:",
    ...podLines,
    "logs:",
    ...logs,
  ].join("\n");
}

async function podLog(name: string): Promise<LogLine[]> {
  const text = await core.readNamespacedPodLog({ name, namespace: NS, container: "controller" });
  return parseLog(text);
}
