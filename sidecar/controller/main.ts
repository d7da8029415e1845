// The shared controller: takes agents' reports, decides through the policy, writes scale.
// Dev: `npx tsx sidecar/controller/main.ts`; built: `node dist/sidecar/controller/main.js`.
//
// One wiring sequence for both backends: the backend, the leader and the auth; the controller;
// its HTTP API (in a cluster behind the prescale guard and the forwarding to the leader); then,
// in a cluster, the policy watch, the leader election and the status writer; shutdown last.
import { configOrExit, exitOnConfigProblems } from "../../services/kit/config.ts";
import { createLogger, type Logger } from "../../services/kit/logger.ts";
import { createRegistry, type Registry } from "../../services/kit/metrics.ts";
import { createShutdown } from "../../services/kit/shutdown.ts";
import type { ScalingPolicy } from "../protocol/policy.ts";
import { REPORTS_PATH } from "../protocol/report.ts";
import { PRESCALE_PATH } from "./api.ts";
import { sharedTokenAuth } from "./auth.ts";
import { type KubernetesConfig, parseControllerConfig, resolveToken } from "./config.ts";
import { Elector } from "./elector.ts";
import { singleInstance } from "./leader.ts";
import { memoryBackend } from "./memory-backend.ts";
import { loadPolicies } from "./policies.ts";
import {
  addControllerApi,
  createController,
  createControllerApp,
  reportsRoute,
  serveController,
} from "./run.ts";

const config = configOrExit(parseControllerConfig(process.env));
const logger = createLogger({ name: "swell-controller", level: config.logLevel });
const registry = createRegistry();

// 1–3. The backend, the leader and the auth. In a cluster: the targets' /scale, a Lease, and
// the agents' ServiceAccount tokens checked by TokenReview, with policies from ScalingPolicy
// objects (watched in step 5). Locally: a backend that only remembers, this one instance as
// leader, one shared token, and policies from a file.
const cluster = config.kubernetes
  ? await kubernetesParts(config.kubernetes, config.identity, logger, registry)
  : undefined;
const policies: ScalingPolicy[] = cluster ? [] : await localPolicies(config.policiesFile);
const backend = cluster?.scale ?? memoryBackend();
const leader = cluster?.lease ?? singleInstance(config.identity);
const auth = cluster?.auth ?? sharedTokenAuth(localToken(config));

// 4. The controller, and its HTTP API.
const controller = createController({ config, policies, backend, leader, logger, registry });
const { app, health, httpMetrics } = createControllerApp({ config, logger, registry });
if (cluster) {
  // Before the API's routes (Hono runs handlers in order): a pod may prescale its own workload
  // only, and reports and floors go to the leader, whose decisions are applied.
  const { k8s, lease, settings } = cluster;
  const forward = k8s.forwardReportsToLeader({
    identity: config.identity,
    isLeader: () => lease.isLeader(),
    leaderUrl: () => lease.leaderUrl(),
    registry,
    timeoutMs: settings.forwardTimeoutMs,
  });
  app.use(PRESCALE_PATH, k8s.guardPrescale({ auth, belongs: cluster.belongs, controller }));
  app.use(REPORTS_PATH, forward);
  app.use(PRESCALE_PATH, forward);
}
const takeReport = addControllerApi(app, {
  config,
  controller,
  auth,
  ...(cluster ? { mayReport: cluster.k8s.mayReportAsOwnPod(cluster.belongs) } : {}),
});
const running = await serveController({
  config,
  controller,
  app,
  health,
  logger,
  backendName: backend.name,
  // Reports skip Hono while this controller takes them itself; a follower's app forwards them.
  reports: reportsRoute({
    config,
    take: takeReport,
    httpMetrics,
    logger,
    ...(cluster ? { applies: () => cluster.lease.isLeader() } : {}),
  }),
});

// 5. In a cluster: watch the policies, run for leader, write the policies' status.
let stopCluster = async () => {};
if (cluster) {
  const { k8s, kc, lease, scale, settings, log } = cluster;
  if (!settings.advertiseUrl) {
    log.warn(
      {},
      "neither SWELL_ADVERTISE_URL nor POD_IP (with a fixed PORT) is set: followers cannot forward reports here",
    );
  }
  const watch = new k8s.PolicyWatch(kc, {
    namespace: settings.watchNamespace,
    onChange: (r) => controller.setPolicies(r.effective),
    log,
  });
  const status = new k8s.StatusWriter(kc, {
    controller,
    leader: lease,
    resolution: () => watch.resolution,
    trouble: (t) => scale.trouble(t),
    record: k8s.eventRecorder(kc, config.identity, log),
    log,
  });
  try {
    await watch.start();
  } catch (err) {
    logger.error({ err }, "cannot start watching the cluster");
    await running.stop();
    process.exit(1);
  }
  lease.start();
  status.start(config.tickMs);
  // custom.metrics.k8s.io and external.metrics.k8s.io, for a plain HPA (docs/kubernetes.md).
  const api = settings.metricsApi;
  const metricsApi = api
    ? await k8s
        .startMetricsApi(kc, controller, {
          ...api,
          namespace: api.namespace ?? k8s.inClusterNamespace() ?? "default",
          isLeader: () => lease.isLeader(),
          leaderUrl: () => lease.leaderUrl(),
          timeoutMs: settings.forwardTimeoutMs,
          log,
        })
        .catch(async (err) => {
          logger.error({ err }, "cannot serve the metrics API");
          await running.stop();
          return process.exit(1);
        })
    : undefined;
  stopCluster = async () => {
    await metricsApi?.close();
    status.stop();
    // One last pass while this replica still leads: a scale written since the last tick gets
    // its Event and status now, or never (the next leader reports only its own decisions).
    await status.sync().catch((err: unknown) => log.warn({ err }, "last status sync failed"));
    await watch.stop();
    // Releases the Lease, so the next leader need not wait out its duration.
    await lease.stop();
  };
}

createShutdown({
  health,
  server: running.server,
  logger,
  delayMs: config.shutdownDelayMs,
  timeoutMs: config.shutdownTimeoutMs,
  drainHooks: [
    {
      name: "controller",
      async drain() {
        controller.stop();
        await stopCluster();
        return undefined;
      },
    },
  ],
  exit: (code) => process.exit(code),
  signals: process,
});

/**
 * The Kubernetes side's first parts; nothing talks to the API server yet. Its modules are
 * loaded only here, so the memory backend does not pay for the Kubernetes client.
 */
async function kubernetesParts(
  settings: KubernetesConfig,
  identity: string,
  logger: Logger,
  registry: Registry,
) {
  const k8s = await import("./kubernetes/index.ts");
  const kc = k8s.loadKubeConfig();
  const log = logger.child({ component: "kubernetes" });
  const { lease } = settings;
  return {
    k8s,
    kc,
    settings,
    log,
    scale: k8s.kubernetesScaleBackend(kc, k8s.apiDiscovery(kc), registry),
    lease: new Elector({
      lock: new k8s.LeaseLock(kc, {
        namespace: lease.namespace ?? k8s.inClusterNamespace() ?? "default",
        name: lease.name,
      }),
      identity,
      url: settings.advertiseUrl,
      clock: Date.now,
      leaseDurationMs: lease.durationMs,
      renewDeadlineMs: lease.renewDeadlineMs,
      retryPeriodMs: lease.retryPeriodMs,
      log,
    }),
    auth: k8s.tokenReviewAuth(kc, {
      audience: settings.tokenAudience,
      cacheTtlMs: settings.tokenCacheTtlMs,
      log,
    }),
    belongs: k8s.podOwnership(kc, { cacheTtlMs: settings.tokenCacheTtlMs, log }),
  };
}

/** The memory backend's policies, from SWELL_POLICIES; a bad file exits 2. */
async function localPolicies(file: string): Promise<ScalingPolicy[]> {
  const loaded = await loadPolicies(file);
  if (loaded.ok) return loaded.policies;
  return exitOnConfigProblems(loaded.problems.map((line) => `SWELL_POLICIES: ${line}`));
}

/** The agents' shared token: SWELL_TOKEN, or a new one, printed once. */
function localToken(settings: { token: string | undefined }): string {
  const { token, generated } = resolveToken(settings);
  if (generated) {
    // On stderr and not in the JSON log, so it can be copied into the agents' env.
    process.stderr.write(`SWELL_TOKEN was not set; agents must send this one: ${token}\n`);
  }
  return token;
}
