import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import { formatPolicyIssues, ScalingPolicy } from "../protocol/policy.ts";

export type LoadPoliciesResult =
  | { ok: true; policies: ScalingPolicy[] }
  | { ok: false; problems: string[] };

/**
 * Reads the ScalingPolicy documents of a YAML file (one or many, `---` apart; documents of other
 * kinds are skipped, so the local stack's own settings can share the file). Every problem is
 * named by file, document and field; nothing is half-loaded.
 */
export function parsePolicies(text: string, file: string): LoadPoliciesResult {
  const problems: string[] = [];
  const policies: ScalingPolicy[] = [];
  const seen = new Map<string, string>();
  parseAllDocuments(text).forEach((doc, i) => {
    const where = `${file}: document ${i + 1}`;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push(`${where}: ${e.message.split("\n")[0]}`);
      return;
    }
    const value: unknown = doc.toJS();
    if (
      !value ||
      typeof value !== "object" ||
      (value as { kind?: unknown }).kind !== "ScalingPolicy"
    )
      return;
    const parsed = ScalingPolicy.safeParse(value);
    if (!parsed.success) {
      for (const line of formatPolicyIssues(parsed.error)) problems.push(`${where}: ${line}`);
      return;
    }
    const p = parsed.data;
    const key = `${p.metadata.namespace ?? "default"}/${p.spec.targetRef.name}`;
    const other = seen.get(key);
    if (other) {
      problems.push(`${where}: ${key} is already targeted by ScalingPolicy ${other}`);
      return;
    }
    seen.set(key, p.metadata.name);
    policies.push(p);
  });
  if (problems.length === 0 && policies.length === 0) {
    problems.push(`${file}: no ScalingPolicy document found`);
  }
  return problems.length ? { ok: false, problems } : { ok: true, policies };
}

/** Reads a file for a config loader: its text, or the one problem line that says why not. */
export async function readConfigFile(
  file: string,
): Promise<{ ok: true; text: string } | { ok: false; problems: string[] }> {
  try {
    return { ok: true, text: await readFile(file, "utf8") };
  } catch (err) {
    return {
      ok: false,
      problems: [`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`],
    };
  }
}

export async function loadPolicies(file: string): Promise<LoadPoliciesResult> {
  const read = await readConfigFile(file);
  return read.ok ? parsePolicies(read.text, file) : read;
}
