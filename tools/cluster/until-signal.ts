/**
 * Keeps a by-hand run (npm run cluster:up, node:up) alive until SIGINT or SIGTERM, then stops
 * it once and exits 0.
 */
export function stopOnSignal(what: string, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping ${what}`);
    await stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // Stay alive until a signal arrives.
  setInterval(() => {}, 1 << 30);
}
