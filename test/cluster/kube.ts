// Helpers for tests against the cluster of the run (see global-setup.ts).
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import {
  ApiException,
  AuthenticationV1Api,
  CoreV1Api,
  KubeConfig,
  type V1TokenReviewStatus,
} from "@kubernetes/client-node";
import { inject } from "vitest";
import { waitFor as waitUntil } from "../support/wait.ts";

/** Path of the admin kubeconfig of the cluster under test (also for child processes). */
export function kubeconfigPath(): string {
  return inject("kubeconfig");
}

/** A KubeConfig for the admin of the cluster under test. */
export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  return kc;
}

/** The HTTP status of a failed API call (409 Conflict, 422 Invalid, ...), or undefined. */
export function apiStatus(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/** Creates a namespace with a unique name; returns it and a function that deletes it. */
export async function createTestNamespace(
  kc: KubeConfig,
  prefix: string,
): Promise<{ name: string; remove: () => Promise<void> }> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await core.createNamespace({
    body: { metadata: { name, labels: { "swell.dev/test": "true" } } },
  });
  return {
    name,
    remove: async () => {
      await core.deleteNamespace({ name }).catch(() => {});
    },
  };
}

/** The tests' waitFor, checking the API server every 200 ms, for at most a minute by default. */
export function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  return waitUntil(what, check, { timeoutMs, everyMs: 200 });
}

export interface TokenRequestOptions {
  namespace: string;
  serviceAccount: string;
  /** The audience the token is for, e.g. "swell"; a TokenReview must name it to accept it. */
  audience: string;
  /** Binds the token to a pod: it dies with the pod and carries the pod's name and uid. */
  pod?: { name: string; uid: string };
  expirationSeconds?: number;
}

/**
 * A ServiceAccount token like the one kubelet projects into a pod (TokenRequest API):
 * for one audience, optionally bound to a pod.
 */
export async function requestServiceAccountToken(
  kc: KubeConfig,
  opts: TokenRequestOptions,
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const res = await core.createNamespacedServiceAccountToken({
    name: opts.serviceAccount,
    namespace: opts.namespace,
    body: {
      spec: {
        audiences: [opts.audience],
        expirationSeconds: opts.expirationSeconds ?? 3600,
        boundObjectRef: opts.pod
          ? { apiVersion: "v1", kind: "Pod", name: opts.pod.name, uid: opts.pod.uid }
          : undefined,
      },
    },
  });
  const token = res.status?.token;
  if (!token) throw new Error("TokenRequest returned no token");
  return token;
}

/** Asks the API server who a token belongs to (TokenReview), for the given audiences. */
export async function reviewToken(
  kc: KubeConfig,
  token: string,
  audiences: string[],
): Promise<V1TokenReviewStatus> {
  const authn = kc.makeApiClient(AuthenticationV1Api);
  const res = await authn.createTokenReview({ body: { spec: { token, audiences } } });
  return res.status ?? {};
}

/**
 * Writes a kubeconfig that acts as a ServiceAccount (bearer token for the API's default
 * audience) on the cluster under test: for running a program with least-privilege RBAC.
 */
export async function writeServiceAccountKubeconfig(
  kc: KubeConfig,
  path: string,
  opts: { namespace: string; serviceAccount: string; expirationSeconds?: number },
): Promise<void> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const core = kc.makeApiClient(CoreV1Api);
  const res = await core.createNamespacedServiceAccountToken({
    name: opts.serviceAccount,
    namespace: opts.namespace,
    body: { spec: { audiences: [], expirationSeconds: opts.expirationSeconds ?? 3600 } },
  });
  const token = res.status?.token;
  if (!token) throw new Error("TokenRequest returned no token");
  const name = `${opts.namespace}-${opts.serviceAccount}`;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name,
        cluster: {
          server: cluster.server,
          "certificate-authority-data": cluster.caData,
          "certificate-authority": cluster.caFile,
        },
      },
    ],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: opts.namespace } }],
    "current-context": name,
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
