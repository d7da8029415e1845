import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, after vitest's own
 * report, so CI (and a person skimming a log) can read the outcome without parsing vitest's
 * decorated summary. A skipped test is counted as failed when SWELL_NO_SKIP=1 (as in CI): a
 * test that needs something missing must say so, not pass silently.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
    }
    if (process.env.SWELL_NO_SKIP === "1" && skipped > 0) {
      failed += skipped;
      process.exitCode = 1;
      console.log(`${skipped} skipped test(s) count as failed (SWELL_NO_SKIP=1)`);
    }
    console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
