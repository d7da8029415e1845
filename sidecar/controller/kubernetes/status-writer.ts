import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { API_VERSION, KIND } from "../../protocol/policy.ts";
import type { ScaleTarget } from "../backend.ts";
import type { Controller } from "../controller.ts";
import type { LeaderElector } from "../leader.ts";
import type { DecisionRecord } from "../workload.ts";
import { apiMessage, apiStatus } from "./errors.ts";
import type { SwellEvent } from "./events.ts";
import type { Resolution, ResolvedPolicy } from "./resolve.ts";
import type { TargetTrouble } from "./scale-backend.ts";
import { desiredStatus, type PolicyStatus, statusChanged, withTransitions } from "./status.ts";
import { POLICY_GROUP, POLICY_PLURAL, POLICY_VERSION } from "./watch.ts";

export interface StatusWriterDeps {
  controller: Controller;
  leader: LeaderElector;
  resolution: () => Resolution;
  trouble: (target: ScaleTarget) => TargetTrouble | undefined;
  record: (e: SwellEvent) => Promise<void>;
  clock?: () => number;
  log: { warn(obj: object, msg: string): void };
}

/**
 * The leader's account of its work in the API: each ScalingPolicy's status subresource (written
 * only when something in it changed, so a steady workload costs no writes) and an Event for
 * each scale, each failed scale and each policy swell refuses to act on.
 *
 * Events are about the ScalingPolicy (`regarding`), with the target as `related`: the decision
 * and its reason belong to the policy, as the HPA's SuccessfulRescale belongs to the HPA, and
 * `kubectl describe scalingpolicy` is where one looks for why.
 */
export class StatusWriter {
  readonly #deps: StatusWriterDeps;
  readonly #custom: CustomObjectsApi;
  readonly #written = new Map<string, PolicyStatus>();
  readonly #reported = new WeakSet<DecisionRecord>();
  readonly #warned = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(kc: KubeConfig, deps: StatusWriterDeps) {
    this.#deps = deps;
    this.#custom = kc.makeApiClient(CustomObjectsApi);
  }

  start(periodMs: number): void {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = true;
      this.sync()
        .catch((err: unknown) =>
          this.#deps.log.warn({ err: apiMessage(err) }, "status sync failed"),
        )
        .finally(() => {
          this.#running = false;
        });
    }, periodMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One pass over every policy: status and events, when leading. */
  async sync(): Promise<void> {
    const { leader, controller, trouble, clock } = this.#deps;
    if (!leader.isLeader()) {
      // A later term starts from what the API server has, not from what we wrote long ago.
      this.#written.clear();
      return;
    }
    const now = new Date((clock ?? Date.now)()).toISOString();
    const { byUid } = this.#deps.resolution();
    for (const uid of this.#written.keys()) if (!byUid.has(uid)) this.#written.delete(uid);
    for (const [uid, r] of byUid) {
      const ns = r.object.metadata?.namespace ?? "default";
      const w = r.policy ? controller.workload(ns, r.policy.spec.targetRef.name) : undefined;
      const target = r.policy ? { namespace: ns, ...r.policy.spec.targetRef } : undefined;
      const next = desiredStatus(r, w, target && trouble(target), leader.leader());
      const previous = this.#written.get(uid) ?? (r.object.status as PolicyStatus | undefined);
      if (statusChanged(next, previous)) {
        const status = withTransitions(next, previous, now);
        if (await this.#patch(r, status)) this.#written.set(uid, status);
      }
      await this.#events(uid, r, w?.decisions.newest(10) ?? [], target);
    }
  }

  async #patch(r: ResolvedPolicy, status: PolicyStatus): Promise<boolean> {
    const { name, namespace } = r.object.metadata ?? {};
    try {
      await this.#custom.patchNamespacedCustomObjectStatus(
        {
          group: POLICY_GROUP,
          version: POLICY_VERSION,
          plural: POLICY_PLURAL,
          namespace: namespace ?? "default",
          name: name ?? "",
          body: { status },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      return true;
    } catch (err) {
      // Deleted meanwhile: the watch will drop it.
      if (apiStatus(err) !== 404) {
        this.#deps.log.warn(
          { err: apiMessage(err), policy: `${namespace}/${name}` },
          "cannot write status",
        );
      }
      return false;
    }
  }

  async #events(
    uid: string,
    r: ResolvedPolicy,
    decisions: DecisionRecord[],
    target: ScaleTarget | undefined,
  ): Promise<void> {
    const m = r.object.metadata ?? {};
    const regarding = {
      apiVersion: API_VERSION,
      kind: KIND,
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
    };
    const related = target && {
      apiVersion: target.apiVersion,
      kind: target.kind,
      name: target.name,
      namespace: target.namespace,
    };
    const refusal = r.invalid
      ? { reason: "InvalidPolicy", note: `the policy is not used: ${r.invalid}` }
      : r.conflict
        ? { reason: "ConflictingAutoscaler", note: r.conflict }
        : undefined;
    if (refusal) {
      // Once per problem and generation, not once a tick.
      const key = `${uid}/${m.generation}/${refusal.note}`;
      if (!this.#warned.has(key)) {
        this.#warned.add(key);
        await this.#deps.record({
          regarding,
          related,
          type: "Warning",
          action: "Scale",
          ...refusal,
        });
      }
      return;
    }
    // Oldest first, so events read in the order things happened.
    for (const d of [...decisions].reverse()) {
      if (this.#reported.has(d) || (!d.applied && !d.error)) continue;
      this.#reported.add(d);
      await this.#deps.record(
        d.applied
          ? {
              regarding,
              related,
              type: "Normal",
              reason: "SuccessfulRescale",
              action: "Scale",
              note: `New size: ${d.desiredReplicas} (from ${d.currentReplicas}); reason: ${d.reason}`,
            }
          : {
              regarding,
              related,
              type: "Warning",
              reason: "FailedRescale",
              action: "Scale",
              note: `New size: ${d.desiredReplicas} (from ${d.currentReplicas}); error: ${d.error}`,
            },
      );
    }
  }
}
