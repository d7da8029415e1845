import type { LeaderElector } from "./leader.ts";

/**
 * Leader election as client-go's tools/leaderelection does it: a small lock interface that
 * stores one record (a Kubernetes Lease in a cluster, see kubernetes/lease.ts), and an elector
 * that takes the lock and a clock and holds no Kubernetes code, so its timing rules are tested
 * with a lock in memory.
 */

/** Who holds the lock, for how long, and since when: client-go's LeaderElectionRecord. */
export interface LeaderRecord {
  /** "" when nobody holds it (released). */
  holderIdentity: string;
  /** Where the holder takes forwarded reports, when it published one. */
  holderUrl: string | undefined;
  leaseDurationMs: number;
  /** Milliseconds since the epoch. */
  acquireTime: number;
  renewTime: number;
  leaderTransitions: number;
}

/** A record as read, with the version that any write, a renewal included, changes. */
export interface ObservedRecord {
  record: LeaderRecord;
  version: string;
}

/**
 * Where the record lives. A write is against the record last read through this lock: when
 * someone else wrote in between, it rejects with a `LockConflictError`, so two candidates racing
 * for the lock cannot both win.
 */
export interface ResourceLock {
  /** The record, or undefined when there is none yet. */
  get(): Promise<ObservedRecord | undefined>;
  /** Creates the record; a conflict when one exists already. */
  create(record: LeaderRecord): Promise<ObservedRecord>;
  /** Replaces the record last read (or written) through this lock. */
  update(record: LeaderRecord): Promise<ObservedRecord>;
  /** For log lines: `namespace/name`. */
  describe(): string;
}

/** The record changed since this lock read it (or was created by someone else). */
export class LockConflictError extends Error {}

export interface ElectorTimings {
  /** How long a follower waits, from when it last saw the record change, before taking it. */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it stops acting as leader. */
  renewDeadlineMs: number;
  /** How often every candidate tries to acquire or renew. */
  retryPeriodMs: number;
}

export interface ElectorOptions extends ElectorTimings {
  lock: ResourceLock;
  identity: string;
  /** This instance's URL for forwarded reports, published in the record while it leads. */
  url: string | undefined;
  /** Milliseconds; only rates matter (see `Elector`), so any monotonic-enough clock will do. */
  clock: () => number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/**
 * client-go's leader election semantics:
 * - every retryPeriod, try to acquire or renew; a write is against the record read, so two
 *   candidates racing for the lock cannot both win;
 * - a follower may take the lock only when it has not seen the record change for the holder's
 *   leaseDuration, measured on its own clock from when it saw the change (clock skew between
 *   nodes does not matter, only rates);
 * - the leader that cannot renew for renewDeadline (< leaseDuration) stops leading before anyone
 *   else may start;
 * - on a graceful stop the leader releases the lock (empty holder, leaseDuration 1 s), as
 *   client-go's ReleaseOnCancel does, so the next leader need not wait.
 */
export class Elector implements LeaderElector {
  readonly identity: string;
  readonly #opts: ElectorOptions;
  #observed: ObservedRecord | undefined;
  #observedAt = 0;
  #leading = false;
  #renewedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<unknown> | undefined;
  #stopped = false;

  constructor(opts: ElectorOptions) {
    this.identity = opts.identity;
    this.#opts = opts;
  }

  /** Leading, and renewed recently enough that no one else can have taken over. */
  isLeader(): boolean {
    return this.#leading && this.#opts.clock() - this.#renewedAt < this.#opts.renewDeadlineMs;
  }

  leader(): string | undefined {
    if (this.isLeader()) return this.identity;
    return this.#validHolder()?.holderIdentity;
  }

  /** The leader's URL for forwarded reports, when some other instance leads. */
  leaderUrl(): string | undefined {
    if (this.isLeader()) return undefined;
    return this.#validHolder()?.holderUrl;
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

  /** Stops; releases the lock when leading so a successor takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const wasLeading = this.#leading;
    this.#setLeading(false);
    // A renewal still in flight would land after a release read before it, or make the
    // release's write stale: let it finish first.
    await this.#inflight;
    if (wasLeading || this.#observed?.record.holderIdentity === this.identity) {
      await this.#release();
    }
  }

  /** One round of client-go's tryAcquireOrRenew; true when this instance holds the lock. */
  tryAcquireOrRenew(): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    const round = this.#round();
    this.#inflight = round;
    return round;
  }

  #validHolder(): LeaderRecord | undefined {
    const r = this.#observed?.record;
    if (!r || r.holderIdentity === "") return undefined;
    return this.#opts.clock() - this.#observedAt < r.leaseDurationMs ? r : undefined;
  }

  #setLeading(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    this.#opts.log.info(
      { identity: this.identity, lease: this.#opts.lock.describe() },
      leading ? "started leading" : "stopped leading",
    );
  }

  async #round(): Promise<boolean> {
    // The term is counted from before the write was sent: a slow answer (a busy event loop)
    // must not stretch it past the moment a follower may take over.
    const started = this.#opts.clock();
    const ok = await withDeadline(this.#attempt(), this.#opts.renewDeadlineMs).catch(
      (err: unknown) => {
        this.#opts.log.warn({ err: errorMessage(err) }, "lease acquire/renew failed");
        return false;
      },
    );
    if (this.#stopped) return false;
    if (ok) {
      this.#renewedAt = started;
      this.#setLeading(true);
    } else if (
      this.#leading &&
      this.#opts.clock() - this.#renewedAt >= this.#opts.renewDeadlineMs
    ) {
      this.#setLeading(false);
    } else if (this.#leading && this.#observed?.record.holderIdentity !== this.identity) {
      // Someone else holds it (we were released or lost it): stop at once.
      this.#setLeading(false);
    }
    return ok;
  }

  async #attempt(): Promise<boolean> {
    const { lock, identity } = this.#opts;
    const now = this.#opts.clock();
    const record = (acquireTime: number, leaderTransitions: number): LeaderRecord => ({
      holderIdentity: identity,
      holderUrl: this.#opts.url,
      leaseDurationMs: this.#opts.leaseDurationMs,
      acquireTime,
      renewTime: now,
      leaderTransitions,
    });

    const current = await lock.get();
    if (!current) {
      this.#observe(await lock.create(record(now, 0)), now);
      return true;
    }
    // A change of the record (a renewal included) restarts the follower's wait.
    if (current.version !== this.#observed?.version) this.#observe(current, now);
    const old = current.record;
    if (old.holderIdentity !== "" && old.holderIdentity !== identity && this.#validHolder()) {
      return false;
    }
    const mine = old.holderIdentity === identity;
    const updated = await lock.update(
      record(
        mine && old.acquireTime ? old.acquireTime : now,
        old.leaderTransitions + (mine ? 0 : 1),
      ),
    );
    this.#observe(updated, now);
    return true;
  }

  #observe(observed: ObservedRecord, now: number): void {
    this.#observed = observed;
    this.#observedAt = now;
  }

  /** Empties the holder if it is still this instance; a conflict means a fresh read and a retry. */
  async #release(attempts = 3): Promise<void> {
    const { lock, clock } = this.#opts;
    try {
      const current = await lock.get();
      if (current?.record.holderIdentity !== this.identity) return;
      const now = clock();
      await lock.update({
        holderIdentity: "",
        holderUrl: undefined,
        leaseDurationMs: 1000,
        acquireTime: now,
        renewTime: now,
        leaderTransitions: current.record.leaderTransitions,
      });
      this.#opts.log.info({ identity: this.identity }, "released the lease");
    } catch (err) {
      if (err instanceof LockConflictError && attempts > 1) return this.#release(attempts - 1);
      this.#opts.log.warn({ err: errorMessage(err) }, "lease release failed");
    }
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A round that gets no answer within `ms` fails, as client-go bounds each by its renew deadline:
 * a request hung on a dead connection would otherwise stop the loop for good (a follower
 * that never takes over) or keep a stopping leader from releasing.
 */
async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
