import {
  CoordinationV1Api,
  type KubeConfig,
  type V1Lease,
  V1MicroTime,
} from "@kubernetes/client-node";
import type { LeaderElector } from "../leader.ts";
import { apiMessage, apiStatus } from "./errors.ts";

/** Where the leader takes forwarded reports; written with every acquire and renewal. */
export const LEADER_URL_ANNOTATION = "swell.dev/leader-url";

export interface LeaseTimings {
  /** How long a follower waits, from when it last saw the lease change, before taking it. */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it stops acting as leader. */
  renewDeadlineMs: number;
  /** How often every instance tries to acquire or renew. */
  retryPeriodMs: number;
}

/** client-go's defaults (tools/leaderelection). */
export const DEFAULT_LEASE_TIMINGS: LeaseTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

export interface LeaseElectorOptions extends LeaseTimings {
  namespace: string;
  name: string;
  identity: string;
  /** This instance's URL for forwarded reports, published on the Lease while it leads. */
  url: () => string | undefined;
  clock?: () => number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

interface Observed {
  holder: string;
  url: string | undefined;
  durationMs: number;
  /** The lease's resourceVersion: any write, renewals included, changes it. */
  version: string | undefined;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics:
 * - every retryPeriod, try to acquire or renew; a write carries the resourceVersion read, so two
 *   instances racing for the lease cannot both win;
 * - a follower may take the lease only when it has not seen it change for the holder's
 *   leaseDuration, measured on its own clock from when it saw the change (clock skew between
 *   nodes does not matter, only rates);
 * - the leader that cannot renew for renewDeadline (< leaseDuration) stops leading before anyone
 *   else may start;
 * - on a graceful stop the leader releases the lease (empty holder, leaseDuration 1 s), as
 *   client-go's ReleaseOnCancel does, so the next leader need not wait.
 */
export class LeaseElector implements LeaderElector {
  readonly identity: string;
  readonly #api: CoordinationV1Api;
  readonly #opts: LeaseElectorOptions;
  readonly #clock: () => number;
  #observed: Observed | undefined;
  #observedAt = 0;
  #leading = false;
  #renewedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<unknown> | undefined;
  #stopped = false;
  readonly #listeners = new Set<(leading: boolean) => void>();

  constructor(kc: KubeConfig, opts: LeaseElectorOptions) {
    this.identity = opts.identity;
    this.#api = kc.makeApiClient(CoordinationV1Api);
    this.#opts = opts;
    this.#clock = opts.clock ?? Date.now;
  }

  /** Leading, and renewed recently enough that no one else can have taken over. */
  isLeader(): boolean {
    return this.#leading && this.#clock() - this.#renewedAt < this.#opts.renewDeadlineMs;
  }

  leader(): string | undefined {
    if (this.isLeader()) return this.identity;
    return this.#validHolder()?.holder;
  }

  /** The leader's URL for forwarded reports, when some other instance leads. */
  leaderUrl(): string | undefined {
    if (this.isLeader()) return undefined;
    return this.#validHolder()?.url;
  }

  /** Called with true when this instance starts leading and false when it stops. */
  onChange(listener: (leading: boolean) => void): void {
    this.#listeners.add(listener);
  }

  /** Starts trying to acquire and renew, every retryPeriod. */
  start(): void {
    const loop = async () => {
      if (this.#stopped) return;
      await this.tryAcquireOrRenew();
      if (!this.#stopped) this.#timer = setTimeout(loop, this.#opts.retryPeriodMs);
    };
    void loop();
  }

  /** Stops; releases the lease when leading so a successor takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const wasLeading = this.#leading;
    this.#setLeading(false);
    // A renewal still in flight would land after a release read before it, or make the
    // release's resourceVersion stale: let it finish first.
    await this.#inflight;
    if (wasLeading || this.#observed?.holder === this.identity) await this.#release();
  }

  #validHolder(): Observed | undefined {
    const o = this.#observed;
    if (!o || o.holder === "") return undefined;
    return this.#clock() - this.#observedAt < o.durationMs ? o : undefined;
  }

  #setLeading(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    this.#opts.log.info(
      { identity: this.identity, lease: `${this.#opts.namespace}/${this.#opts.name}` },
      leading ? "started leading" : "stopped leading",
    );
    for (const l of this.#listeners) l(leading);
  }

  /** One round of client-go's tryAcquireOrRenew; true when this instance holds the lease. */
  tryAcquireOrRenew(): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    const round = this.#round();
    this.#inflight = round;
    return round;
  }

  async #round(): Promise<boolean> {
    // The term is counted from before the write was sent: a slow answer (a busy event loop)
    // must not stretch it past the moment a follower may take over.
    const started = this.#clock();
    const ok = await this.#attempt().catch((err: unknown) => {
      this.#opts.log.warn({ err: apiMessage(err) }, "lease acquire/renew failed");
      return false;
    });
    if (this.#stopped) return false;
    if (ok) {
      this.#renewedAt = started;
      this.#setLeading(true);
    } else if (this.#leading && this.#clock() - this.#renewedAt >= this.#opts.renewDeadlineMs) {
      this.#setLeading(false);
    } else if (this.#leading && this.#observed?.holder !== this.identity) {
      // Someone else holds it (we were released or lost it): stop at once.
      this.#setLeading(false);
    }
    return ok;
  }

  async #attempt(): Promise<boolean> {
    const { namespace, name, identity } = this.#opts;
    const now = this.#clock();
    const spec = (acquire: V1MicroTime, transitions: number) => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#opts.leaseDurationMs / 1000),
      acquireTime: acquire,
      renewTime: new V1MicroTime(now),
      leaseTransitions: transitions,
    });
    const url = this.#opts.url();
    const annotations = url ? { [LEADER_URL_ANNOTATION]: url } : undefined;

    let current: V1Lease;
    try {
      current = await this.#api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (apiStatus(err) !== 404) throw err;
      const created = await this.#api.createNamespacedLease({
        namespace,
        body: { metadata: { name, namespace, annotations }, spec: spec(new V1MicroTime(now), 0) },
      });
      this.#observe(created, now);
      return true;
    }
    // A change of the record (a renewal included) restarts the follower's wait.
    if (current.metadata?.resourceVersion !== this.#observed?.version) this.#observe(current, now);
    const holder = current.spec?.holderIdentity ?? "";
    if (holder !== "" && holder !== identity && this.#validHolder()) return false;

    const mine = holder === identity;
    const old = current.spec ?? {};
    const updated = await this.#api.replaceNamespacedLease({
      name,
      namespace,
      body: {
        ...current,
        metadata: {
          ...current.metadata,
          annotations: { ...current.metadata?.annotations, ...annotations },
        },
        spec: spec(
          mine && old.acquireTime ? new V1MicroTime(old.acquireTime) : new V1MicroTime(now),
          (old.leaseTransitions ?? 0) + (mine ? 0 : 1),
        ),
      },
    });
    this.#observe(updated, now);
    return true;
  }

  #observe(lease: V1Lease, now: number): void {
    this.#observed = {
      holder: lease.spec?.holderIdentity ?? "",
      url: lease.metadata?.annotations?.[LEADER_URL_ANNOTATION],
      durationMs: (lease.spec?.leaseDurationSeconds ?? 0) * 1000,
      version: lease.metadata?.resourceVersion,
    };
    this.#observedAt = now;
  }

  /** Empties the holder if it is still this instance; a conflict means a fresh read and a retry. */
  async #release(attempts = 3): Promise<void> {
    const { name, namespace } = this.#opts;
    try {
      const lease = await this.#api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = new V1MicroTime(this.#clock());
      await this.#api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            holderIdentity: "",
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: lease.spec?.leaseTransitions ?? 0,
          },
        },
      });
      this.#opts.log.info({ identity: this.identity }, "released the lease");
    } catch (err) {
      if (apiStatus(err) === 409 && attempts > 1) return this.#release(attempts - 1);
      this.#opts.log.warn({ err: apiMessage(err) }, "lease release failed");
    }
  }
}
