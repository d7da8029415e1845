import { hash, timingSafeEqual } from "node:crypto";

/** Who sent a request, as far as the controller can tell. */
export type Principal =
  /** Holder of the shared local token: may report for any workload. */
  | { kind: "shared" }
  /** A pod's ServiceAccount token, checked by TokenReview: may report only for its workload. */
  | { kind: "pod"; namespace: string; podName: string; podUid: string };

export interface Authenticator {
  /** The principal for an `Authorization` header, or undefined when it proves nothing. */
  authenticate(authorization: string | undefined): Promise<Principal | undefined>;
}

export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return m?.[1];
}

/** Local mode: one shared token. Compared in constant time on digests, so length leaks nothing. */
export function sharedTokenAuth(token: string): Authenticator {
  // One-shot hash: a Hash object per report cost more than the digest itself.
  const want = hash("sha256", token, "buffer");
  return {
    async authenticate(authorization) {
      const got = bearerToken(authorization);
      if (got === undefined) return undefined;
      const digest = hash("sha256", got, "buffer");
      return timingSafeEqual(digest, want) ? { kind: "shared" } : undefined;
    },
  };
}
