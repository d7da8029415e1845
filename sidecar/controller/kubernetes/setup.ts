import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import type { Hono } from "hono";
import type { Logger } from "../../../services/kit/logger.ts";
import type { Registry } from "../../../services/kit/metrics.ts";
import type { Report } from "../../protocol/report.ts";
import { REPORTS_PATH } from "../../protocol/report.ts";
import type { Authenticator, Principal } from "../auth.ts";
import type { ControllerConfig } from "../config.ts";
import type { Controller } from "../controller.ts";
import { apiDiscovery } from "./discovery.ts";
import { eventRecorder } from "./events.ts";
import { forwardReportsToLeader } from "./forward.ts";
import { LeaseElector } from "./lease.ts";
import { mayReportAsOwnPod, podOwnership } from "./ownership.ts";
import { guardPrescale } from "./prescale-guard.ts";
import { kubernetesScaleBackend } from "./scale-backend.ts";
import { StatusWriter } from "./status-writer.ts";
import { tokenReviewAuth } from "./token-review.ts";
import { PolicyWatch } from "./watch.ts";

const IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** The parts main passes to runController, and what starts and stops the Kubernetes side. */
export interface KubernetesParts {
  identity: string;
  backend: ReturnType<typeof kubernetesScaleBackend>;
  leader: LeaseElector;
  auth: Authenticator;
  mayReport: (principal: Principal, report: Report) => Promise<boolean>;
  beforeApi: (app: Hono, controller: Controller) => void;
  /** Once the server listens: watch policies, elect a leader, write status. */
  start(controller: Controller, url: string): Promise<void>;
  /** Stops writing status, watching and leading (the lease is released). */
  stop(): Promise<void>;
}

/** Builds the Kubernetes side of the controller from its config; nothing talks to the API yet. */
export function kubernetesParts(
  config: ControllerConfig,
  logger: Logger,
  registry: Registry,
  identity: string,
): KubernetesParts {
  // KUBECONFIG when set, else ~/.kube/config, else the pod's ServiceAccount (in-cluster).
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const log = logger.child({ component: "kubernetes" });
  const backend = kubernetesScaleBackend(kc, apiDiscovery(kc), registry);
  let advertised: string | undefined;
  const leader = new LeaseElector(kc, {
    namespace:
      config.SWELL_LEASE_NAMESPACE ?? config.POD_NAMESPACE ?? inClusterNamespace() ?? "default",
    name: config.SWELL_LEASE_NAME,
    identity,
    url: () => advertised,
    leaseDurationMs: config.SWELL_LEASE_DURATION,
    renewDeadlineMs: config.SWELL_RENEW_DEADLINE,
    retryPeriodMs: config.SWELL_RETRY_PERIOD,
    log,
  });
  const auth = tokenReviewAuth(kc, {
    audience: config.SWELL_TOKEN_AUDIENCE,
    cacheTtlMs: config.SWELL_TOKEN_CACHE_TTL,
    log,
  });
  const belongs = podOwnership(kc, { cacheTtlMs: config.SWELL_TOKEN_CACHE_TTL, log });
  const mayReport = mayReportAsOwnPod(belongs);
  let watch: PolicyWatch | undefined;
  let status: StatusWriter | undefined;
  let lastSummary = "";

  return {
    identity,
    backend,
    leader,
    auth,
    mayReport,
    beforeApi(app, controller) {
      const forward = forwardReportsToLeader({
        identity,
        isLeader: () => leader.isLeader(),
        leaderUrl: () => leader.leaderUrl(),
        registry,
        timeoutMs: config.SWELL_FORWARD_TIMEOUT,
      });
      const prescale = "/v1/workloads/:namespace/:name/prescale";
      app.use(prescale, guardPrescale({ auth, belongs, controller }));
      // Reports and floors go to the leader, whose decisions are applied.
      app.use(REPORTS_PATH, forward);
      app.use(prescale, forward);
    },
    async start(controller, url) {
      advertised =
        config.SWELL_ADVERTISE_URL?.href.replace(/\/$/, "") ??
        (config.POD_IP ? `http://${config.POD_IP}:${new URL(url).port}` : undefined);
      if (!advertised) {
        log.warn(
          {},
          "neither SWELL_ADVERTISE_URL nor POD_IP is set: followers cannot forward reports here",
        );
      }
      const w = new PolicyWatch(kc, {
        namespace: config.SWELL_WATCH_NAMESPACE,
        onChange: (r) => {
          controller.setPolicies(r.effective);
          // Status writes come back through the watch: log only when the outcome changed.
          const summary = {
            workloads: r.effective.map((p) => `${p.metadata.namespace}/${p.spec.targetRef.name}`),
            refused: [...r.byUid.values()]
              .filter((p) => p.invalid || p.conflict)
              .map((p) => `${p.object.metadata?.namespace}/${p.object.metadata?.name}`),
          };
          const text = JSON.stringify(summary);
          if (text !== lastSummary) log.info(summary, "policies");
          lastSummary = text;
        },
        log,
      });
      watch = w;
      await w.start();
      leader.start();
      status = new StatusWriter(kc, {
        controller,
        leader,
        resolution: () => w.resolution,
        trouble: (t) => backend.trouble(t),
        record: eventRecorder(kc, identity, log),
        log,
      });
      status.start(config.SWELL_TICK);
    },
    async stop() {
      status?.stop();
      await watch?.stop();
      await leader.stop();
    },
  };
}

function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
