import { defineConfig } from "vitest/config";

// Reliability tests: schemathesis fuzzing of the OpenAPI documents, abuse (slow, flooding and
// oversize clients) and faults (SIGKILL, clock jumps). Real processes on loopback; one file at
// a time, so the figures they assert are not skewed by each other. Run by `npm run test:reliability`.
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    globalSetup: ["./test/support/leftover-guard.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
