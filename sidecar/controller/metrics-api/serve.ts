import { once } from "node:events";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { SIGNALS_PATH } from "../api.ts";
import type { Controller } from "../controller.ts";
import { apiMessage, apiStatus } from "../kubernetes/errors.ts";
import type { WorkloadSignals } from "../signals-view.ts";
import { loadRequestHeaderConfig, requestHeaderAuthenticator } from "./authn.ts";
import { subjectAccessReviewAuthorizer } from "./authz.ts";
import { provisionServingCertificate, setCaBundle } from "./certs.ts";
import { metricsApiApp, StatusError } from "./routes.ts";

export interface MetricsApiOptions {
  host: string;
  port: number;
  /** The controller's namespace: its Secret and Service live there. */
  namespace: string;
  service: string;
  secret: string;
  apiServices: string[];
  /** The leader's plain API URL when another replica leads; undefined when none is known. */
  leaderUrl: () => string | undefined;
  isLeader: () => boolean;
  timeoutMs: number;
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
  };
}

export interface RunningMetricsApi {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the custom and external metrics APIs over TLS, as an aggregated API server: its
 * serving certificate shared through a Secret (and the APIServices' caBundle), the front proxy
 * authenticated by the requestheader CA, every request authorized by a SubjectAccessReview.
 * Any replica answers: the leader has every report, so a follower asks the leader's view.
 */
export async function startMetricsApi(
  kc: KubeConfig,
  controller: Controller,
  opts: MetricsApiOptions,
): Promise<RunningMetricsApi> {
  const serving = await provisionServingCertificate(kc, opts);
  const requestHeader = await loadRequestHeaderConfig(kc);
  const core = kc.makeApiClient(CoreV1Api);

  const signals = async (namespace: string): Promise<WorkloadSignals[]> => {
    if (opts.isLeader()) return controller.signals(namespace);
    const url = opts.leaderUrl();
    if (!url) throw new Error("no controller leads right now");
    const res = await fetch(`${url}${SIGNALS_PATH}?namespace=${encodeURIComponent(namespace)}`, {
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    if (!res.ok) throw new Error(`the leading controller answered ${res.status}`);
    return ((await res.json()) as { workloads: WorkloadSignals[] }).workloads;
  };

  const podsMatching = async (namespace: string, labelSelector: string) => {
    try {
      const list = await core.listNamespacedPod({ namespace, labelSelector });
      return new Set(list.items.map((p) => p.metadata?.name ?? ""));
    } catch (err) {
      if (apiStatus(err) === 400) throw new StatusError(400, "BadRequest", apiMessage(err));
      throw new Error(`cannot list pods: ${apiMessage(err)}`);
    }
  };

  const app = metricsApiApp({
    signals,
    podsMatching,
    authenticate: requestHeaderAuthenticator(requestHeader),
    authorize: subjectAccessReviewAuthorizer(kc, { cacheTtlMs: 10_000, log: opts.log }),
    log: opts.log,
  });
  const server: Server = createServer(
    {
      cert: serving.cert,
      key: serving.key,
      // Ask for a client certificate and verify it against the requestheader CA; a request
      // without one gets an answer (401), not a failed handshake.
      ca: requestHeader.clientCa,
      requestCert: true,
      rejectUnauthorized: false,
    },
    getRequestListener(app.fetch as never),
  );
  server.listen(opts.port, opts.host);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  const url = `https://${host}:${port}`;
  opts.log.info({ url, apiServices: opts.apiServices }, "metrics API listening");
  try {
    await setCaBundle(kc, serving.ca, opts.apiServices, opts.log);
  } catch (err) {
    server.close();
    throw err;
  }
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
