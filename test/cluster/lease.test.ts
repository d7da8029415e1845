// The elector on a Lease in-process against the real kube-apiserver: the release on stop must win
// over a renewal still in flight (a race CI once caught in controller-leader.test.ts).
import { CoordinationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Elector } from "../../sidecar/controller/elector.ts";
import { LeaseLock } from "../../sidecar/controller/kubernetes/lease.ts";
import { adminKubeConfig, createTestNamespace } from "./kube.ts";

let kc: KubeConfig;
let ns: string;
let remove: () => Promise<unknown>;
const quiet = { info() {}, warn() {} };

beforeAll(async () => {
  kc = adminKubeConfig();
  ({ name: ns, remove } = await createTestNamespace(kc, "lease"));
});
afterAll(() => remove?.());

const elector = (identity: string) =>
  new Elector({
    lock: new LeaseLock(kc, { namespace: ns, name: "race" }),
    identity,
    url: `http://${identity}.test`,
    clock: Date.now,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 60_000,
    log: quiet,
  });

const holder = async () =>
  (await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: "race", namespace: ns }))
    .spec?.holderIdentity ?? "";

describe("Elector.stop on a Lease", () => {
  // The stop lands at a different point of the renewal each round: before its read, between
  // its read and its write, after its write.
  it.each(Array.from({ length: 12 }, (_, i) => i))(
    "releases the lease even with a renewal in flight (stop %i ms into it)",
    async (delayMs) => {
      const e = elector(`ctl-${delayMs}`);
      e.start();
      // The first round acquires; the others take the released lease at once.
      await expect.poll(holder, { timeout: 10_000 }).toBe(`ctl-${delayMs}`);
      const renewal = e.tryAcquireOrRenew();
      await new Promise((r) => setTimeout(r, delayMs));
      await e.stop();
      await renewal;
      expect(await holder()).toBe("");
      expect(e.isLeader()).toBe(false);
    },
  );
});
