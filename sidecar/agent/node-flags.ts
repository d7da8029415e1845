/**
 * The V8 flags the agent runs with, wherever it runs: k8s/base/agent-sidecar.yaml's args (a
 * test checks they match), the local stack and the benchmark.
 *
 * Parsing the app's exposition text every scrape allocates a lot that dies young; V8 answers by
 * growing the young generation far beyond what the agent needs. Capped at 1 MiB, the agent's
 * peak RSS drops for about the same CPU (figures in BENCHMARKS.md, agent cost).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1"];
