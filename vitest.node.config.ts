import { defineConfig } from "vitest/config";

// Real-node tests: the local control plane plus a real kubelet, containerd, Docker engine and
// registry on this machine (tools/node), started once per run by test/node/global-setup.ts.
// Run by `npm run test:node` (root: network, mounts, cgroups).
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    globalSetup: ["./test/node/global-setup.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
  },
});
