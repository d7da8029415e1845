// The shared controller: takes agents' reports, decides through the policy, writes scale.
// Dev: `npx tsx sidecar/controller/main.ts`; built: `node dist/sidecar/controller/main.js`.
import { hostname } from "node:os";
import { loadConfig } from "../../services/kit/config.ts";
import { createLogger } from "../../services/kit/logger.ts";
import { createRegistry } from "../../services/kit/metrics.ts";
import { createShutdown } from "../../services/kit/shutdown.ts";
import { sharedTokenAuth } from "./auth.ts";
import { controllerEnv, resolveToken } from "./config.ts";
import { singleInstance } from "./leader.ts";
import { memoryBackend } from "./memory-backend.ts";
import { loadPolicies } from "./policies.ts";
import { type RunControllerDeps, type RunningController, runController } from "./run.ts";

const config = loadConfig(controllerEnv);
const logger = createLogger({ name: "swell-controller", level: config.LOG_LEVEL });
const registry = createRegistry();

let running: RunningController;
let stopBackend = async () => {};
const common = { config, logger, registry };

if (config.SWELL_BACKEND === "kubernetes") {
  // Policies come from ScalingPolicy objects (watched), agents authenticate with their pod's
  // ServiceAccount token, and a Lease picks the one instance that writes. Loaded only here, so
  // the memory backend does not pay for the Kubernetes client.
  const { kubernetesParts } = await import("./kubernetes/setup.ts");
  const k8s = kubernetesParts(
    config,
    logger,
    registry,
    config.POD_NAME ?? config.SWELL_IDENTITY ?? hostname(),
  );
  const deps: RunControllerDeps = {
    ...common,
    policies: [],
    backend: k8s.backend,
    leader: k8s.leader,
    auth: k8s.auth,
    mayReport: k8s.mayReport,
    beforeApi: k8s.beforeApi,
  };
  running = await runController(deps);
  try {
    await k8s.start(running.controller, running.server.url);
  } catch (err) {
    logger.error({ err }, "cannot start watching the cluster");
    await running.stop();
    process.exit(1);
  }
  // custom.metrics.k8s.io and external.metrics.k8s.io for a plain HPA (docs/kubernetes.md).
  const port = config.SWELL_METRICS_API_PORT;
  const { metricsApiFromConfig } = await import("./metrics-api/serve.ts");
  const metricsApi =
    port === undefined
      ? undefined
      : await metricsApiFromConfig(
          { ...config, SWELL_METRICS_API_PORT: port },
          running.controller,
          k8s.leader,
          logger,
        ).catch(async (err) => {
          logger.error({ err }, "cannot serve the metrics API");
          await running.stop();
          process.exit(1);
        });
  stopBackend = async () => {
    await metricsApi?.close();
    await k8s.stop();
  };
} else {
  const loaded = await loadPolicies(config.SWELL_POLICIES);
  if (!loaded.ok) {
    for (const line of loaded.problems) process.stderr.write(`config: SWELL_POLICIES: ${line}\n`);
    process.exit(2);
  }
  const { token, generated } = resolveToken(config);
  if (generated) {
    // Printed once, on stderr and not in the JSON log, so it can be copied into the agents' env.
    process.stderr.write(`SWELL_TOKEN was not set; agents must send this one: ${token}\n`);
  }
  running = await runController({
    ...common,
    policies: loaded.policies,
    backend: memoryBackend(),
    leader: singleInstance(config.SWELL_IDENTITY ?? hostname()),
    auth: sharedTokenAuth(token),
  });
}

createShutdown({
  health: running.health,
  server: running.server,
  logger,
  delayMs: config.SHUTDOWN_DELAY,
  timeoutMs: config.SHUTDOWN_TIMEOUT,
  drainHooks: [
    {
      name: "controller",
      async drain() {
        running.controller.stop();
        // Releases the Lease (kubernetes), so the next leader need not wait out its duration.
        await stopBackend();
        return undefined;
      },
    },
  ],
  exit: (code) => process.exit(code),
  signals: process,
});
