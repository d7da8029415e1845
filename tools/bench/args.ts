import { parseArgs } from "node:util";
import type { ParseResult } from "../../services/kit/config.ts";

export interface BenchArgs {
  /** Shorter runs and fewer repetitions: a few minutes in all. */
  quick: boolean;
  /** Print one JSON object on stdout instead of the table. */
  json: boolean;
  /** Only these sections (all when empty). `--node` adds "node". */
  only: SectionName[];
}

export const SECTION_NAMES = [
  "service",
  "scrape",
  "agent",
  "controller",
  "reaction",
  "policy",
  "metrics-api",
  "node",
] as const;
/**
 * Sections a run without --only leaves out: they need what a plain run does not (root, a
 * control plane; for node the real node and its lock).
 */
export const OPTIONAL_SECTIONS: readonly SectionName[] = ["metrics-api", "node"];
export type SectionName = (typeof SECTION_NAMES)[number];

export const USAGE = `usage: npm run bench [-- --quick] [-- --json] [-- --only ${SECTION_NAMES.join(",")}] [-- --node]
  --node   the real-node load runs only (same as --only node): root, and the node's lock:
           flock /tmp/swell-node.lock npm run bench -- --node`;

/** Parses argv (without node and the script) with node:util's parseArgs, as every tool does. Pure. */
export function parseBenchArgs(argv: readonly string[]): ParseResult<BenchArgs> {
  let values: { quick?: boolean; json?: boolean; only?: string[]; node?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        quick: { type: "boolean" },
        json: { type: "boolean" },
        only: { type: "string", multiple: true },
        node: { type: "boolean" },
      },
    }));
  } catch (err) {
    return { ok: false, problems: [(err as Error).message] };
  }
  const only: SectionName[] = [];
  for (const name of (values.only ?? []).flatMap((list) => list.split(","))) {
    if (!(SECTION_NAMES as readonly string[]).includes(name)) {
      return {
        ok: false,
        problems: [
          `--only: unknown section ${JSON.stringify(name)}; expected ${SECTION_NAMES.join(", ")}`,
        ],
      };
    }
    only.push(name as SectionName);
  }
  if (values.node && !only.includes("node")) only.push("node");
  return { ok: true, value: { quick: values.quick ?? false, json: values.json ?? false, only } };
}
