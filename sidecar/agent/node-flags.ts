/**
 * The V8 flags the agent runs with, wherever it runs: k8s/base/agent-sidecar.yaml's args (a
 * test checks they match), the local stack and the benchmark. Figures: BENCHMARKS.md.
 *
 * - `--max-semi-space-size=1`: parsing the app's exposition every scrape allocates a lot that
 *   dies young, and V8 answers by growing the young generation far beyond what the agent
 *   needs; capped at 1 MiB it stays small for about the same CPU.
 * - `--lite-mode`: no optimizing compiler and less feedback kept per function. The agent works
 *   a few milliseconds a scrape, so optimized code would save it little CPU, and that code and
 *   its feedback are private memory in every pod.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--lite-mode"];
