import { createHash } from "node:crypto";
import { AuthenticationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { type Authenticator, bearerToken, type Principal } from "../auth.ts";
import { apiMessage, apiUnavailable } from "./errors.ts";
import { TtlCache } from "./ttl-cache.ts";

export interface TokenReviewOptions {
  /** The audience agents' projected tokens are for; a token for any other is refused. */
  audience: string;
  /** How long a verdict is reused; a refusal is reused for at most 10 s. */
  cacheTtlMs: number;
  clock?: () => number;
  log: { warn(obj: object, msg: string): void };
}

const SA_PREFIX = "system:serviceaccount:";
const POD_NAME = "authentication.kubernetes.io/pod-name";
const POD_UID = "authentication.kubernetes.io/pod-uid";

/**
 * Agents send their pod's projected ServiceAccount token (audience swell). The API server says
 * whose it is (TokenReview); a token bound to a pod carries the pod's name and uid. Verdicts
 * are cached briefly, keyed by the token's SHA-256, so the token itself is never stored or logged.
 */
export function tokenReviewAuth(kc: KubeConfig, opts: TokenReviewOptions): Authenticator {
  const api = kc.makeApiClient(AuthenticationV1Api);
  const cache = new TtlCache<Principal | undefined>(10_000, opts.clock);
  const inflight = new Map<string, Promise<Principal | undefined>>();

  const review = async (token: string): Promise<{ principal?: Principal; cacheable: boolean }> => {
    try {
      const res = await api.createTokenReview({
        body: { spec: { token, audiences: [opts.audience] } },
      });
      const s = res.status ?? {};
      if (!s.authenticated || !s.audiences?.includes(opts.audience)) return { cacheable: true };
      const username = s.user?.username ?? "";
      const podName = s.user?.extra?.[POD_NAME]?.[0];
      const podUid = s.user?.extra?.[POD_UID]?.[0];
      // Only pod-bound ServiceAccount tokens name a pod; anything else cannot report.
      if (!username.startsWith(SA_PREFIX) || !podName || !podUid) return { cacheable: true };
      const namespace = username.slice(SA_PREFIX.length).split(":")[0] ?? "";
      return { principal: { kind: "pod", namespace, podName, podUid }, cacheable: true };
    } catch (err) {
      // The API server could not answer: 503, so the agent sends it again; nothing cached.
      opts.log.warn({ err: apiMessage(err) }, "TokenReview failed");
      throw apiUnavailable("check the token");
    }
  };

  return {
    async authenticate(authorization) {
      const token = bearerToken(authorization);
      if (token === undefined) return undefined;
      const key = createHash("sha256").update(token).digest("base64url");
      const hit = cache.get(key);
      if (hit) return hit.value;
      // Concurrent reports with one token share one review.
      let pending = inflight.get(key);
      if (!pending) {
        pending = review(token).then(({ principal, cacheable }) => {
          if (cacheable)
            cache.set(
              key,
              principal,
              principal ? opts.cacheTtlMs : Math.min(opts.cacheTtlMs, 10_000),
            );
          return principal;
        });
        pending.finally(() => inflight.delete(key)).catch(() => {});
        inflight.set(key, pending);
      }
      return pending;
    },
  };
}
