import { defineConfig } from "vitest/config";

// Unit, integration and local end-to-end tests, run by `npm test`.
// The cluster tests (real kube-apiserver) have their own config: vitest.cluster.config.ts.
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
    globalSetup: ["./test/support/leftover-guard.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
