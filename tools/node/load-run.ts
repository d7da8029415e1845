// One load run on the real node, as a user does it (`skaffold run -p load` or `-p hpa-load`),
// recorded from before the first request to after the workloads are back down; and its undoing
// (`skaffold delete`, until the namespace is gone). Used by test/node/load.test.ts and the
// bench's --node phase. The deploy tree must be shaped first (load-tree.ts: the Job deployed
// suspended, resumed here once the recorder watches).
import { setTimeout as sleep } from "node:timers/promises";
import {
  ApiregistrationV1Api,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { type RunFigures, runFigures } from "./load-figures.ts";
import { type Recording, startRecorder } from "./load-timeline.ts";
import type { RunResult } from "./skaffold.ts";

export const NAMESPACE = "swell";
export const WORKLOADS = ["api", "worker"] as const;
export const QUEUE_WORKLOADS = ["worker"] as const;
/** Both overlays' minReplicas (the ScalingPolicies' and the HPAs'). */
export const MIN_REPLICAS = 2;

export type LoadProfile = "load" | "hpa-load";

export interface LoadRunOptions {
  kc: KubeConfig;
  skaffold: (args: string[], timeoutMs: number) => Promise<RunResult>;
  profile: LoadProfile;
  defaultRepo: string;
  /** The shaped Job's --duration and the scale-down window (load-tree.ts), seconds. */
  durationS: number;
  scaleDownWindowS: number;
  log?: (line: string) => void;
  /** Started when the recorder is, stopped when it is: e.g. a sampler of the kubelet's stats. */
  alongside?: () => { stop(): Promise<unknown> };
}

export interface LoadRun {
  profile: LoadProfile;
  recording: Recording;
  figures: RunFigures;
  /** Every workload back to MIN_REPLICAS, all Ready, and the workers' queues empty. */
  settled: boolean;
  alongside: unknown;
  /** From `skaffold run` returning to the workloads back down (or the wait's end). */
  wallS: number;
}

const output = (r: RunResult) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`.slice(-8000);

async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "not yet";
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(500);
  }
}

/** Deploys the profile, runs its load Job recorded, waits for the workloads to come back down. */
export async function runNodeLoad(o: LoadRunOptions): Promise<LoadRun> {
  const log = o.log ?? (() => {});
  const apps = o.kc.makeApiClient(AppsV1Api);
  log(`node load: skaffold run -p ${o.profile}`);
  const deployed = await o.skaffold(
    [
      "run",
      `--profile=${o.profile},build-host-network`,
      `--default-repo=${o.defaultRepo}`,
      "--status-check=true",
      "--port-forward=off",
    ],
    25 * 60_000,
  );
  if (deployed.code !== 0)
    throw new Error(`skaffold run -p ${o.profile} failed:\n${output(deployed)}`);
  const began = Date.now();
  // The scaler raises each new Deployment to minReplicas; the load starts from there.
  for (const name of WORKLOADS) {
    await until(
      `${name} at ${MIN_REPLICAS} replicas, all Ready`,
      async () => {
        const d = await apps.readNamespacedDeployment({ name, namespace: NAMESPACE });
        return (
          d.spec?.replicas === MIN_REPLICAS &&
          d.status?.readyReplicas === MIN_REPLICAS &&
          d.status.updatedReplicas === MIN_REPLICAS
        );
      },
      240_000,
    );
  }
  if (o.profile === "hpa-load") {
    // The HPA reads swell's signals through the aggregated API: wait until it is served.
    const reg = o.kc.makeApiClient(ApiregistrationV1Api);
    await until(
      "APIService v1beta2.custom.metrics.k8s.io Available",
      async () =>
        (
          await reg.readAPIService({ name: "v1beta2.custom.metrics.k8s.io" })
        ).status?.conditions?.some((c) => c.type === "Available" && c.status === "True"),
      120_000,
    );
  }

  const recorder = await startRecorder({
    kc: o.kc,
    namespace: NAMESPACE,
    workloads: WORKLOADS,
    queueWorkloads: QUEUE_WORKLOADS,
    job: "load",
    log,
  });
  const beside = o.alongside?.();
  let settled = false;
  let alongside: unknown;
  let recording: Recording;
  try {
    log(`node load: resuming the load Job (${o.durationS} s)`);
    await o.kc
      .makeApiClient(BatchV1Api)
      .patchNamespacedJob(
        { name: "load", namespace: NAMESPACE, body: { spec: { suspend: false } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    const done = await recorder.jobDone((o.durationS + 180) * 1000);
    log(`node load: the load Job is ${done}; waiting for the workloads to come back down`);
    settled = await until(
      `${WORKLOADS.join(" and ")} back to ${MIN_REPLICAS} Ready replicas`,
      async () =>
        WORKLOADS.every((w) => {
          const s = recorder.latest(w);
          return s?.spec === MIN_REPLICAS && s.ready === MIN_REPLICAS;
        }),
      (o.scaleDownWindowS + 180) * 1000,
    ).catch((err: Error) => {
      log(`node load: ${err.message}`);
      return false;
    });
    // The pods scaled down drain (SHUTDOWN_DELAY + their queue): let their last lines arrive.
    await sleep(3_000);
  } finally {
    recording = await recorder.stop();
    alongside = await beside
      ?.stop()
      .catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }));
  }
  const figures = runFigures(recording, QUEUE_WORKLOADS);
  const unsettled = figures.jobs.unsettled.length > 0;
  return {
    profile: o.profile,
    recording,
    figures,
    settled: settled && !unsettled,
    alongside,
    wallS: (Date.now() - began) / 1000,
  };
}

/**
 * `skaffold delete` of the profile (the namespace, the CRD, the cluster-wide RBAC and, for
 * hpa-load, the APIServices), then waits until the namespace is gone, so the next deploy starts
 * clean. Safe when nothing is deployed.
 */
export async function deleteNodeLoad(
  kc: KubeConfig,
  skaffold: (args: string[], timeoutMs: number) => Promise<RunResult>,
  profile: LoadProfile,
): Promise<void> {
  const r = await skaffold(["delete", `--profile=${profile}`], 5 * 60_000);
  if (r.code !== 0) throw new Error(`skaffold delete -p ${profile} failed:\n${output(r)}`);
  const core = kc.makeApiClient(CoreV1Api);
  await until(
    `namespace ${NAMESPACE} gone`,
    async () => {
      try {
        await core.readNamespace({ name: NAMESPACE });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    },
    180_000,
  );
}
