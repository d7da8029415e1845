// A real process for the log-destination tests: logs N numbered lines through the kit's logger,
// yielding now and then so writes are in flight, then ends the way argv[2] says:
//   end           nothing left to do: the event loop empties and the process exits 0
//   config-error  the kit's loadConfig finds a bad variable and exits 2
//   throw         an uncaught error ends it (exit 1)
//   serve         listens with the kit's app and shutdown (port 0, SHUTDOWN_DELAY_MS) and logs
//                 "listening"; the test sends requests and signals
import { z } from "zod";
import { createApp } from "../../../../services/kit/app.ts";
import { envVars, loadConfig } from "../../../../services/kit/config.ts";
import { Health } from "../../../../services/kit/health.ts";
import { createLogger } from "../../../../services/kit/logger.ts";
import { createHttpMetrics, createRegistry } from "../../../../services/kit/metrics.ts";
import { listen } from "../../../../services/kit/server.ts";
import { createShutdown } from "../../../../services/kit/shutdown.ts";

const how = process.argv[2];
const count = Number(process.argv[3] ?? 0);
const logger = createLogger({ name: "log-lines", level: "info" });
for (let i = 0; i < count; i++) {
  logger.info({ i }, "line");
  if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
}

if (how === "throw") {
  throw new Error("uncaught, on purpose");
} else if (how === "config-error") {
  loadConfig(z.object({ PORT: envVars.port() }), { PORT: "not-a-port" });
} else if (how === "serve") {
  const registry = createRegistry({ defaultMetrics: false });
  const health = new Health();
  const app = createApp({
    logger,
    registry,
    metrics: createHttpMetrics(registry),
    health,
    maxBodyBytes: 1024,
  });
  app.get("/", (c) => c.json({ ok: true }));
  const server = await listen(app, { host: "127.0.0.1", port: 0 });
  createShutdown({
    health,
    server,
    logger,
    delayMs: Number(process.env.SHUTDOWN_DELAY_MS ?? 0),
    timeoutMs: 5000,
    exit: (code) => process.exit(code),
    signals: process,
  });
  health.markReady();
  logger.info({ url: server.url }, "listening");
}
