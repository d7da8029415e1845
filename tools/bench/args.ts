export interface BenchArgs {
  /** Shorter runs and fewer repetitions: a few minutes in all. */
  quick: boolean;
  /** Print one JSON object on stdout instead of the table. */
  json: boolean;
  /** Only these sections (all when empty). */
  only: SectionName[];
}

export const SECTION_NAMES = [
  "service",
  "scrape",
  "agent",
  "controller",
  "reaction",
  "policy",
] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

export const USAGE = `usage: npm run bench [-- --quick] [-- --json] [-- --only ${SECTION_NAMES.join(",")}]`;

/** Parses argv (without node and the script). Pure. */
export function parseBenchArgs(
  argv: readonly string[],
): { ok: true; value: BenchArgs } | { ok: false; problem: string } {
  const value: BenchArgs = { quick: false, json: false, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--quick") value.quick = true;
    else if (arg === "--json") value.json = true;
    else if (arg === "--only" || arg.startsWith("--only=")) {
      const list = arg === "--only" ? argv[++i] : arg.slice("--only=".length);
      if (!list) return { ok: false, problem: "--only: expected a list of sections" };
      for (const name of list.split(",")) {
        if (!(SECTION_NAMES as readonly string[]).includes(name)) {
          return {
            ok: false,
            problem: `--only: unknown section ${JSON.stringify(name)}; expected ${SECTION_NAMES.join(", ")}`,
          };
        }
        value.only.push(name as SectionName);
      }
    } else return { ok: false, problem: `unknown argument ${JSON.stringify(arg)}` };
  }
  return { ok: true, value };
}
