import { defineConfig } from "vitest/config";

// Cluster tests: a real kube-apiserver, controllers, scheduler and kwok nodes, started once per
// run by test/cluster/global-setup.ts (or SWELL_TEST_KUBECONFIG). Run by `npm run test:cluster`.
export default defineConfig({
  test: {
    include: ["test/cluster/**/*.test.ts"],
    // Teardowns run in reverse: the guard checks for leftovers after the cluster is stopped.
    globalSetup: ["./test/support/leftover-guard.ts", "./test/cluster/global-setup.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    // One shared cluster on a small machine: test files one after the other.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
