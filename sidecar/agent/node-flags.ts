/**
 * The V8 flags the agent runs with, wherever it runs: k8s/base/agent-sidecar.yaml's args (a
 * test checks they match), the local stack and the benchmark. Figures: BENCHMARKS.md.
 *
 * - `--max-semi-space-size=1`: parsing the app's exposition every scrape allocates a lot that
 *   dies young, and V8 answers by growing the young generation far beyond what the agent
 *   needs; capped at 1 MiB it stays small for about the same CPU.
 * - `--no-opt --no-maglev --no-sparkplug --optimize-for-size`: only the interpreter, and V8's
 *   memory-saving heuristics. The agent works a few milliseconds a scrape, so compiled code
 *   would save it little CPU, and that code and its feedback are private memory in every pod.
 *   These are what `--lite-mode` does without `--jitless`, which would also turn off
 *   WebAssembly, which Node's type stripping needs (the local stack runs the agent's sources).
 */
export const AGENT_NODE_FLAGS: readonly string[] = [
  "--max-semi-space-size=1",
  "--no-opt",
  "--no-maglev",
  "--no-sparkplug",
  "--optimize-for-size",
];

/**
 * The local stack's agents keep only the young-generation cap: a dozen of them share a small
 * machine's cores with everything else there, and the interpreter-only flags cost each about a
 * third more CPU. In a pod the agent has its own CPU and its memory is paid once per pod, so
 * the manifests carry AGENT_NODE_FLAGS.
 */
export const LOCAL_AGENT_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1"];
