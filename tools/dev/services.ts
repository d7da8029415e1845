/**
 * `npm run dev`: one worker and one api on loopback, for trying the services by hand, without
 * the scaler (`npm start` runs the whole local stack).
 * api on 127.0.0.1:$API_PORT (8080), worker on 127.0.0.1:$WORKER_PORT (8081), WORKER_URL
 * wired between them; both log JSON lines to this terminal. SIGINT/SIGTERM are passed on once,
 * so both drain gracefully; when either exits, the other is stopped too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const apiPort = process.env.API_PORT ?? "8080";
const workerPort = process.env.WORKER_PORT ?? "8081";
const shared = { HOST: "127.0.0.1", SHUTDOWN_DELAY: process.env.SHUTDOWN_DELAY ?? "0" };

function run(name: string, env: Record<string, string>): ChildProcess {
  // Own process group: a terminal's Ctrl-C reaches the children once, through us, not twice
  // (a second signal would make them skip the graceful drain).
  return spawn(process.execPath, ["--import", "tsx", `services/${name}/main.ts`], {
    cwd: root,
    env: { ...process.env, ...shared, ...env },
    stdio: ["ignore", "inherit", "inherit"],
    detached: true,
  });
}

const children = [
  run("worker", { PORT: workerPort }),
  run("api", { PORT: apiPort, WORKER_URL: `http://127.0.0.1:${workerPort}` }),
];

let stopping = false;
function stopAll(signal: NodeJS.Signals): void {
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    stopAll("SIGTERM");
  });
}

let exitCode = 0;
let running = children.length;
for (const child of children) {
  child.on("exit", (code, signal) => {
    exitCode ||= code ?? (signal ? 1 : 0);
    running--;
    if (!stopping) {
      stopping = true;
      stopAll("SIGTERM");
    }
    if (running === 0) process.exit(exitCode);
  });
}
