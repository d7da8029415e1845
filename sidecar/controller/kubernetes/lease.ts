import {
  CoordinationV1Api,
  type KubeConfig,
  type V1Lease,
  V1MicroTime,
} from "@kubernetes/client-node";
import {
  type LeaderRecord,
  LockConflictError,
  type ObservedRecord,
  type ResourceLock,
} from "../elector.ts";
import { apiMessage, apiStatus } from "./errors.ts";

/** Where the leader takes forwarded reports; written with every acquire and renewal. */
export const LEADER_URL_ANNOTATION = "swell.dev/leader-url";

/**
 * The elector's lock on a coordination.k8s.io/v1 Lease, as client-go's LeaseLock: the record in
 * the Lease's spec (the holder's URL in an annotation), a write is a replace carrying the
 * resourceVersion last read, so the API server refuses it (409) when someone wrote in between.
 */
export class LeaseLock implements ResourceLock {
  readonly #api: CoordinationV1Api;
  readonly #namespace: string;
  readonly #name: string;
  /** The Lease last read or written: an update replaces it, keeping what swell does not own. */
  #lease: V1Lease | undefined;

  constructor(kc: KubeConfig, where: { namespace: string; name: string }) {
    this.#api = kc.makeApiClient(CoordinationV1Api);
    this.#namespace = where.namespace;
    this.#name = where.name;
  }

  describe(): string {
    return `${this.#namespace}/${this.#name}`;
  }

  async get(): Promise<ObservedRecord | undefined> {
    try {
      this.#lease = await this.#api.readNamespacedLease({
        name: this.#name,
        namespace: this.#namespace,
      });
    } catch (err) {
      if (apiStatus(err) === 404) return undefined;
      throw lockError(err);
    }
    return observed(this.#lease);
  }

  async create(record: LeaderRecord): Promise<ObservedRecord> {
    try {
      this.#lease = await this.#api.createNamespacedLease({
        namespace: this.#namespace,
        body: {
          metadata: {
            name: this.#name,
            namespace: this.#namespace,
            annotations: urlAnnotation(record),
          },
          spec: leaseSpec(record),
        },
      });
    } catch (err) {
      throw lockError(err);
    }
    return observed(this.#lease);
  }

  async update(record: LeaderRecord): Promise<ObservedRecord> {
    const current = this.#lease;
    if (!current) throw new LockConflictError("the Lease was not read before the update");
    try {
      this.#lease = await this.#api.replaceNamespacedLease({
        name: this.#name,
        namespace: this.#namespace,
        body: {
          ...current,
          metadata: {
            ...current.metadata,
            annotations: { ...current.metadata?.annotations, ...urlAnnotation(record) },
          },
          spec: leaseSpec(record),
        },
      });
    } catch (err) {
      throw lockError(err);
    }
    return observed(this.#lease);
  }
}

function leaseSpec(r: LeaderRecord): V1Lease["spec"] {
  return {
    holderIdentity: r.holderIdentity,
    leaseDurationSeconds: Math.ceil(r.leaseDurationMs / 1000),
    acquireTime: new V1MicroTime(r.acquireTime),
    renewTime: new V1MicroTime(r.renewTime),
    leaseTransitions: r.leaderTransitions,
  };
}

/** The URL annotation to write; none keeps whatever the Lease has (it means nothing once released). */
function urlAnnotation(r: LeaderRecord): Record<string, string> | undefined {
  return r.holderUrl ? { [LEADER_URL_ANNOTATION]: r.holderUrl } : undefined;
}

function observed(lease: V1Lease): ObservedRecord {
  const spec = lease.spec;
  return {
    record: {
      holderIdentity: spec?.holderIdentity ?? "",
      holderUrl: lease.metadata?.annotations?.[LEADER_URL_ANNOTATION],
      leaseDurationMs: (spec?.leaseDurationSeconds ?? 0) * 1000,
      acquireTime: spec?.acquireTime ? new Date(spec.acquireTime).getTime() : 0,
      renewTime: spec?.renewTime ? new Date(spec.renewTime).getTime() : 0,
      leaderTransitions: spec?.leaseTransitions ?? 0,
    },
    version: lease.metadata?.resourceVersion ?? "",
  };
}

/** The API server's short message; a 409 (changed in between, or exists) as a conflict. */
function lockError(err: unknown): Error {
  const message = apiMessage(err);
  return apiStatus(err) === 409 ? new LockConflictError(message) : new Error(message);
}
