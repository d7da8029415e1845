// The elector's timing rules (client-go's leaderelection) on a lock kept in memory, with a
// clock the test moves: takeover, the renew deadline, the release. The same elector on a real
// Lease and kube-apiserver is in test/cluster/lease.test.ts and controller-leader.test.ts.
import { describe, expect, it, vi } from "vitest";
import {
  Elector,
  type LeaderRecord,
  LockConflictError,
  type ObservedRecord,
  type ResourceLock,
} from "../../../../sidecar/controller/elector.ts";

/** One stored record, shared by the candidates' locks, with a version bumped by every write. */
class MemoryStore {
  current: ObservedRecord | undefined;
  #version = 0;
  writes = 0;
  write(record: LeaderRecord): ObservedRecord {
    this.writes++;
    this.current = { record: { ...record }, version: String(++this.#version) };
    return this.current;
  }
}

/**
 * A candidate's lock on the store: like a Lease's, a write is against the version it last read
 * and conflicts when someone wrote in between. `fail` makes every call reject (API unreachable);
 * `hold` keeps the next update waiting until released (a slow answer).
 */
class MemoryLock implements ResourceLock {
  fail = false;
  #read: string | undefined;
  #held: Array<() => void> = [];
  hold = false;
  readonly store: MemoryStore;
  constructor(store: MemoryStore) {
    this.store = store;
  }
  describe() {
    return "test/lock";
  }
  async get() {
    if (this.fail) throw new Error("unreachable");
    this.#read = this.store.current?.version;
    return (
      this.store.current && { ...this.store.current, record: { ...this.store.current.record } }
    );
  }
  async create(record: LeaderRecord) {
    if (this.fail) throw new Error("unreachable");
    if (this.store.current) throw new LockConflictError("exists");
    return this.#wrote(this.store.write(record));
  }
  async update(record: LeaderRecord) {
    if (this.fail) throw new Error("unreachable");
    if (this.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    if (this.store.current?.version !== this.#read) throw new LockConflictError("changed");
    return this.#wrote(this.store.write(record));
  }
  release() {
    this.hold = false;
    for (const resolve of this.#held.splice(0)) resolve();
  }
  #wrote(o: ObservedRecord) {
    this.#read = o.version;
    return o;
  }
}

const TIMINGS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function world() {
  const time = { now: 1_000_000 };
  const store = new MemoryStore();
  const lines: string[] = [];
  const candidate = (identity: string) => {
    const lock = new MemoryLock(store);
    const elector = new Elector({
      ...TIMINGS,
      lock,
      identity,
      url: `http://${identity}:9090`,
      clock: () => time.now,
      log: {
        info: (_o, msg) => lines.push(`${identity}: ${msg}`),
        warn: (_o, msg) => lines.push(`${identity}: ${msg}`),
      },
    });
    return { lock, elector };
  };
  const advance = (ms: number) => {
    time.now += ms;
  };
  return { time, store, lines, candidate, advance };
}

describe("elector: acquire and follow", () => {
  it("the first candidate creates the record and leads; another follows and learns its URL", async () => {
    const w = world();
    const a = w.candidate("a").elector;
    const b = w.candidate("b").elector;
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(w.store.current?.record).toEqual({
      holderIdentity: "a",
      holderUrl: "http://a:9090",
      leaseDurationMs: 15_000,
      acquireTime: w.time.now,
      renewTime: w.time.now,
      leaderTransitions: 0,
    });
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    expect([a.leader(), b.leader()]).toEqual(["a", "a"]);
    expect([a.leaderUrl(), b.leaderUrl()]).toEqual([undefined, "http://a:9090"]);
  });

  it("a renewal keeps the acquire time and the transitions, and moves the renew time", async () => {
    const w = world();
    const a = w.candidate("a").elector;
    await a.tryAcquireOrRenew();
    const acquired = w.time.now;
    w.advance(2_000);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(w.store.current?.record).toMatchObject({
      acquireTime: acquired,
      renewTime: acquired + 2_000,
      leaderTransitions: 0,
    });
  });

  it("two candidates racing on the same read: one write wins, the other conflicts", async () => {
    const w = world();
    const a = w.candidate("a");
    const b = w.candidate("b");
    await a.elector.tryAcquireOrRenew();
    await a.elector.stop(); // released: anyone may take it at once
    const [ra, rb] = await Promise.all([
      w.candidate("c").elector.tryAcquireOrRenew(),
      b.elector.tryAcquireOrRenew(),
    ]);
    expect([ra, rb].filter(Boolean)).toHaveLength(1);
    expect(w.lines.filter((l) => l.endsWith("lease acquire/renew failed"))).toHaveLength(1);
  });
});

describe("elector: takeover", () => {
  it("a follower takes over only after a whole lease duration without a change, counting a transition", async () => {
    const w = world();
    const a = w.candidate("a").elector;
    const b = w.candidate("b").elector;
    await a.tryAcquireOrRenew();
    await b.tryAcquireOrRenew(); // b sees the record now
    w.advance(TIMINGS.leaseDurationMs - 1);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    w.advance(1);
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(w.store.current?.record).toMatchObject({
      holderIdentity: "b",
      holderUrl: "http://b:9090",
      acquireTime: w.time.now,
      leaderTransitions: 1,
    });
    // a learns it lost at its next round and stops at once, its deadline not yet passed.
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(a.isLeader()).toBe(false);
    expect(a.leader()).toBe("b");
    expect(w.lines).toContain("a: stopped leading");
  });

  it("every renewal restarts the follower's wait", async () => {
    const w = world();
    const a = w.candidate("a").elector;
    const b = w.candidate("b").elector;
    await a.tryAcquireOrRenew();
    for (let i = 0; i < 20; i++) {
      await b.tryAcquireOrRenew();
      w.advance(TIMINGS.retryPeriodMs);
      await a.tryAcquireOrRenew();
    }
    // 40 s have passed, far more than a lease duration, but a renewed all along.
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(a.isLeader()).toBe(true);
  });

  it("the wait runs on the follower's clock from when it saw the record, not from its renew time", async () => {
    const w = world();
    const a = w.candidate("a").elector;
    await a.tryAcquireOrRenew();
    // A follower whose clock is an hour ahead of the leader's: the record's renewTime looks
    // stale to it, yet it must wait the whole duration from when it first read the record.
    w.advance(3_600_000);
    const b = w.candidate("b").elector;
    expect(await b.tryAcquireOrRenew()).toBe(false);
    w.advance(TIMINGS.leaseDurationMs - 1);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    w.advance(1);
    expect(await b.tryAcquireOrRenew()).toBe(true);
  });
});

describe("elector: renew deadline", () => {
  it("a leader that cannot renew stops leading once the renew deadline passed, before anyone may take over", async () => {
    const w = world();
    const { lock, elector: a } = w.candidate("a");
    await a.tryAcquireOrRenew();
    lock.fail = true;
    w.advance(TIMINGS.renewDeadlineMs - 1);
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(a.isLeader()).toBe(true);
    w.advance(1);
    // isLeader answers from the clock alone, between rounds too.
    expect(a.isLeader()).toBe(false);
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(w.lines).toContain("a: stopped leading");
    expect(TIMINGS.renewDeadlineMs).toBeLessThan(TIMINGS.leaseDurationMs);
  });

  it("the term counts from before a slow write was sent, not from its answer", async () => {
    const w = world();
    const { lock, elector: a } = w.candidate("a");
    await a.tryAcquireOrRenew();
    w.advance(TIMINGS.retryPeriodMs);
    const sentAt = w.time.now;
    lock.hold = true;
    const renewal = a.tryAcquireOrRenew();
    await Promise.resolve();
    w.advance(5_000); // the answer takes 5 s (a busy event loop)
    lock.release();
    expect(await renewal).toBe(true);
    w.advance(TIMINGS.renewDeadlineMs - 5_000 - 1);
    expect(a.isLeader()).toBe(true);
    w.advance(1);
    expect(w.time.now - sentAt).toBe(TIMINGS.renewDeadlineMs);
    expect(a.isLeader()).toBe(false);
  });
});

describe("elector: release", () => {
  it("stop empties the holder with a 1 s lease, so a follower takes over at its next round", async () => {
    const w = world();
    const a = w.candidate("a").elector;
    const b = w.candidate("b").elector;
    await a.tryAcquireOrRenew();
    await b.tryAcquireOrRenew();
    await a.stop();
    expect(a.isLeader()).toBe(false);
    expect(w.store.current?.record).toMatchObject({
      holderIdentity: "",
      leaseDurationMs: 1000,
      leaderTransitions: 0,
    });
    expect(b.leader()).toBe("a"); // until its next read
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(w.store.current?.record).toMatchObject({ holderIdentity: "b", leaderTransitions: 1 });
    // A stopped elector takes no part any more.
    expect(await a.tryAcquireOrRenew()).toBe(false);
  });

  it("waits for a renewal in flight before releasing, so the renewal cannot land after the release", async () => {
    const w = world();
    const { lock, elector: a } = w.candidate("a");
    await a.tryAcquireOrRenew();
    lock.hold = true;
    const renewal = a.tryAcquireOrRenew();
    await Promise.resolve();
    const stopped = a.stop();
    lock.release();
    await Promise.all([renewal, stopped]);
    expect(w.store.current?.record.holderIdentity).toBe("");
    expect(w.lines).toContain("a: released the lease");
  });

  it("retries the release after a conflict", async () => {
    const w = world();
    const { lock, elector: a } = w.candidate("a");
    await a.tryAcquireOrRenew();
    const update = lock.update.bind(lock);
    let conflicts = 1;
    lock.update = async (record) => {
      if (conflicts-- > 0) throw new LockConflictError("changed");
      return update(record);
    };
    await a.stop();
    expect(w.store.current?.record.holderIdentity).toBe("");
  });

  it("a follower's stop leaves the leader's record alone", async () => {
    const w = world();
    const a = w.candidate("a").elector;
    const b = w.candidate("b").elector;
    await a.tryAcquireOrRenew();
    await b.tryAcquireOrRenew();
    const writes = w.store.writes;
    await b.stop();
    expect(w.store.writes).toBe(writes);
    expect(w.store.current?.record.holderIdentity).toBe("a");
  });
});

describe("elector: a request that never answers", () => {
  it("fails the round at the renew deadline, so the next round runs and a stopping leader still releases", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const w = world();
      const { lock, elector: a } = w.candidate("a");
      const b = w.candidate("b");
      await a.tryAcquireOrRenew();
      // b's read hangs (a dead connection): its round gives up at the deadline, not never.
      const get = b.lock.get.bind(b.lock);
      b.lock.get = () => new Promise(() => {});
      let answered: boolean | undefined;
      void b.elector.tryAcquireOrRenew().then((ok) => {
        answered = ok;
      });
      await vi.advanceTimersByTimeAsync(TIMINGS.renewDeadlineMs - 1);
      expect(answered).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(answered).toBe(false);
      expect(w.lines).toContain("b: lease acquire/renew failed");
      // a's renewal hangs too; its stop waits for it only until the deadline, then releases.
      const update = lock.update.bind(lock);
      lock.update = () => new Promise(() => {});
      void a.tryAcquireOrRenew();
      lock.update = update;
      let stopped = false;
      const stopping = a.stop().then(() => {
        stopped = true;
      });
      await vi.advanceTimersByTimeAsync(TIMINGS.renewDeadlineMs);
      await stopping;
      expect(stopped).toBe(true);
      expect(w.store.current?.record.holderIdentity).toBe("");
      // With answers again, b takes over at its next round.
      b.lock.get = get;
      expect(await b.elector.tryAcquireOrRenew()).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
