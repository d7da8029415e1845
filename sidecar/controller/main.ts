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
import { runController } from "./run.ts";

const config = loadConfig(controllerEnv);
const logger = createLogger({ name: "swell-controller", level: config.LOG_LEVEL });

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

const running = await runController({
  config,
  policies: loaded.policies,
  backend: memoryBackend(),
  leader: singleInstance(config.SWELL_IDENTITY ?? hostname()),
  auth: sharedTokenAuth(token),
  logger,
  registry: createRegistry(),
});

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
        return undefined;
      },
    },
  ],
  exit: (code) => process.exit(code),
  signals: process,
});
