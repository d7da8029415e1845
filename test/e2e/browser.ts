import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). Never a downloaded one. */
export const CHROMIUM = process.env.SWELL_CHROMIUM ?? "/usr/bin/chromium";

// Headless, and nothing that reaches beyond this machine: no background networking, component
// updates, sync or QUIC probes (Chromium tries hosts this machine cannot reach without them).
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A fresh headless Chromium profile; `close` removes it. */
export async function openBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the browser tests need Debian's chromium (apt-get install chromium; bash .ci/run installs it), or SWELL_CHROMIUM naming another Chromium`,
    );
  }
  const profile = mkdtempSync(path.join(tmpdir(), "swell-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    timeout: 30_000,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
