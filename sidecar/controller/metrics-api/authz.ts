import { createHash } from "node:crypto";
import {
  AuthorizationV1Api,
  type KubeConfig,
  type V1SubjectAccessReviewSpec,
} from "@kubernetes/client-node";
import { apiMessage } from "../kubernetes/errors.ts";
import { TtlCache } from "../kubernetes/ttl-cache.ts";
import type { User } from "./authn.ts";

/** What a request asks for, in the API server's terms (its RequestInfo). */
export type Attributes =
  | {
      kind: "resource";
      group: string;
      version: string;
      namespace?: string;
      resource: string;
      name?: string;
      subresource?: string;
      verb: "get" | "list";
    }
  | { kind: "nonResource"; path: string; verb: "get" };

/**
 * The attributes of a GET under /apis/{group}/{version}/, parsed as the API server's RequestInfo
 * does: `namespaces/{ns}/{resource}[/{name}[/{subresource}]]`; with a name it is a get, without
 * one a list. The group-version root (discovery) is a non-resource path.
 */
export function requestAttributes(path: string): Attributes | undefined {
  const m = /^\/apis\/([^/]+)\/([^/]+)(?:\/(.*))?$/.exec(path);
  if (!m) return { kind: "nonResource", path, verb: "get" };
  const [, group = "", version = "", rest] = m;
  if (!rest) return { kind: "nonResource", path, verb: "get" };
  const parts = rest.split("/");
  let namespace: string | undefined;
  if (parts[0] === "namespaces" && parts.length > 2) {
    namespace = parts[1];
    parts.splice(0, 2);
  }
  const [resource, name, subresource] = parts;
  if (!resource || parts.length > 3) return undefined;
  return {
    kind: "resource",
    group,
    version,
    resource,
    verb: name ? "get" : "list",
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
    ...(subresource ? { subresource } : {}),
  };
}

export type Authorizer = (user: User, attrs: Attributes) => Promise<boolean>;

/**
 * Delegated authorization: asks the API server (SubjectAccessReview) whether the user may do
 * what the request asks, so RBAC decides who reads the metrics. Verdicts are reused for a few
 * seconds (the HPA asks for the same thing every sync); a failed review denies and is not kept.
 */
export function subjectAccessReviewAuthorizer(
  kc: KubeConfig,
  opts: { cacheTtlMs: number; log: { warn(obj: object, msg: string): void }; clock?: () => number },
): Authorizer {
  const api = kc.makeApiClient(AuthorizationV1Api);
  const cache = new TtlCache<boolean>(10_000, opts.clock);
  return async (user, attrs) => {
    const spec: V1SubjectAccessReviewSpec = {
      user: user.name,
      groups: user.groups,
      extra: user.extra,
      ...(attrs.kind === "resource"
        ? {
            resourceAttributes: {
              group: attrs.group,
              version: attrs.version,
              resource: attrs.resource,
              verb: attrs.verb,
              ...(attrs.namespace ? { namespace: attrs.namespace } : {}),
              ...(attrs.name ? { name: attrs.name } : {}),
              ...(attrs.subresource ? { subresource: attrs.subresource } : {}),
            },
          }
        : { nonResourceAttributes: { path: attrs.path, verb: attrs.verb } }),
    };
    const key = createHash("sha256").update(JSON.stringify(spec)).digest("base64url");
    const hit = cache.get(key);
    if (hit) return hit.value;
    try {
      const review = await api.createSubjectAccessReview({ body: { spec } });
      const allowed = review.status?.allowed === true;
      cache.set(key, allowed, opts.cacheTtlMs);
      return allowed;
    } catch (err) {
      opts.log.warn({ err: apiMessage(err) }, "SubjectAccessReview failed");
      return false;
    }
  };
}
