// `npm start`: the whole idea on one machine. The controller on loopback, and each service as a
// pool of replicas (service process + agent process) behind a round-robin balancer; the
// controller scales the pools through the local backend. Ctrl-C drains everything.
import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import {
  configOrExit,
  envVars,
  exitOnConfigProblems,
  loadConfig,
} from "../../services/kit/config.ts";
import { createLogger } from "../../services/kit/logger.ts";
import { createRegistry } from "../../services/kit/metrics.ts";
import { sharedTokenAuth } from "../../sidecar/controller/auth.ts";
import { parseControllerConfig, resolveToken } from "../../sidecar/controller/config.ts";
import { singleInstance } from "../../sidecar/controller/leader.ts";
import { parsePolicies, readConfigFile } from "../../sidecar/controller/policies.ts";
import { buildController, serveController } from "../../sidecar/controller/run.ts";
import { localBackend } from "./backend.ts";
import { type Balancer, startBalancer } from "./balancer.ts";
import { parseLocalStack } from "./config.ts";
import { ProcessPool } from "./pool.ts";
import { liveStatus, statusLines } from "./status.ts";
import { prometheusTargets, TARGETS_PATH } from "./targets.ts";

const env = loadConfig(
  z.object({
    SWELL_LOCAL_CONFIG: envVars.string().default("swell.local.yaml"),
    SWELL_LOG_DIR: envVars.string().default("out/local"),
    LOG_LEVEL: envVars.logLevel().default("info"),
  }),
);
const file = await readConfigFile(env.SWELL_LOCAL_CONFIG);
const text = file.ok ? file.text : exitOnConfigProblems(file.problems);
const loaded = parseLocalStack(text, env.SWELL_LOCAL_CONFIG, process.env);
const stack = loaded.ok ? loaded.stack : exitOnConfigProblems(loaded.problems);
const policies = parsePolicies(text, env.SWELL_LOCAL_CONFIG);
if (!policies.ok) exitOnConfigProblems(policies.problems);

mkdirSync(env.SWELL_LOG_DIR, { recursive: true });
const logFile = (name: string) =>
  createWriteStream(path.join(env.SWELL_LOG_DIR, `${name}.log`), { flags: "a" });
const controllerConfig = configOrExit(
  parseControllerConfig({
    ...process.env,
    HOST: stack.controller.host,
    PORT: String(stack.controller.port),
    SWELL_POLICIES: env.SWELL_LOCAL_CONFIG,
  }),
);
const { token } = resolveToken(controllerConfig);
const logger = createLogger({
  name: "swell-controller",
  level: env.LOG_LEVEL,
  destination: logFile("controller"),
});

// Balancers first: their ports are what the services' env may refer to as {{name.url}}.
const balancers = new Map<string, Balancer>();
for (const s of stack.services) {
  try {
    balancers.set(s.name, await startBalancer({ host: "127.0.0.1", port: s.port, name: s.name }));
  } catch (err) {
    const variable = `${s.name.toUpperCase().replaceAll("-", "_")}_PORT`;
    exitOnConfigProblems([
      `${variable}: cannot listen on 127.0.0.1:${s.port} (${(err as NodeJS.ErrnoException).code})`,
    ]);
  }
}
const urlOf = (name: string) => `http://127.0.0.1:${balancers.get(name)?.port}`;
const interpolate = (v: string) =>
  v.replace(/\{\{\s*([a-z0-9-]+)\.url\s*\}\}/g, (_, n: string) =>
    balancers.has(n) ? urlOf(n) : `{{${n}.url}}`,
  );

const pools = new Map<string, ProcessPool>();
const controllerUrl = `http://${stack.controller.host}:${stack.controller.port}`;
for (const s of stack.services) {
  const balancer = balancers.get(s.name) as Balancer;
  pools.set(
    `${s.namespace}/${s.name}`,
    new ProcessPool(
      {
        namespace: s.namespace,
        name: s.name,
        kind: s.kind,
        entry: s.entry,
        agentEntry: "sidecar/agent/main.ts",
        env: {
          LOG_LEVEL: env.LOG_LEVEL,
          SHUTDOWN_DELAY: "0",
          ...Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, interpolate(v)])),
        },
        agentEnv: {
          SWELL_CONTROLLER_URL: controllerUrl,
          SWELL_TOKEN: token,
          LOG_LEVEL: env.LOG_LEVEL,
          // Like the demo policies' short windows: a surge is seen within half a second, so a
          // scale-up lands sooner than at the agent's 1 s default (BENCHMARKS.md, reaction).
          // SWELL_SCRAPE_INTERVAL in the environment wins.
          SWELL_SCRAPE_INTERVAL: process.env.SWELL_SCRAPE_INTERVAL || "500ms",
        },
        readyTimeoutMs: 30_000,
        stopTimeoutMs: 30_000,
      },
      { balancer, log: logFile(s.name) },
    ),
  );
}

const backend = localBackend(pools);
const built = buildController({
  config: controllerConfig,
  policies: policies.ok ? policies.policies : [],
  backend,
  leader: singleInstance("local"),
  auth: sharedTokenAuth(token),
  logger,
  registry: createRegistry(),
});
// For a Prometheus on this machine (tools/local/prometheus.yml): replicas come and go.
built.app.get(TARGETS_PATH, (c) => c.json(prometheusTargets(pools.values(), stack.controller)));
const running = await serveController({
  ...built,
  config: controllerConfig,
  logger,
  backendName: backend.name,
});

// Start each pool at its policy's floor; from here on the controller decides.
for (const w of running.controller.workloads()) pools.get(w.key)?.resize(w.policy.spec.minReplicas);

const out = process.stdout;
out.write(`swell local stack (logs in ${env.SWELL_LOG_DIR}/)\n`);
out.write(`  page        ${controllerUrl}/  (live charts and decisions)\n`);
out.write(`  controller  ${controllerUrl}  (GET /v1/workloads)\n`);
for (const s of stack.services) out.write(`  ${s.name.padEnd(10)}  ${urlOf(s.name)}\n`);
out.write(`  token       SWELL_TOKEN=${token}\n`);
out.write("Ctrl-C stops everything.\n\n");

const viewing = new AbortController();
liveStatus(out, () => statusLines(running.controller, pools), {
  everyMs: 500,
  plainEveryMs: 5000,
  signal: viewing.signal,
});

let stopping = 0;
const stop = async (signal: string) => {
  // `timeout` and some supervisors signal the process and its group at once: the same signal
  // twice within half a second is one request to stop, not an impatient second Ctrl-C.
  if (stopping && Date.now() - stopping < 500) return;
  if (stopping) {
    out.write(`\n${signal} again: killing replicas now\n`);
    for (const p of pools.values()) p.killAll();
    process.exit(130);
  }
  stopping = Date.now();
  viewing.abort();
  out.write(`\n${signal}: draining replicas (Ctrl-C again to kill)\n`);
  running.controller.stop(); // no scale changes while draining
  await Promise.all([...pools.values()].map((p) => p.stop()));
  await Promise.all([...balancers.values()].map((b) => b.close()));
  await running.stop();
  out.write("stopped\n");
  process.exit(0);
};
process.on("SIGINT", (s) => void stop(s));
process.on("SIGTERM", (s) => void stop(s));
