/** One requirement of a Kubernetes label selector. */
type Requirement =
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!exists" };

export type LabelSelector = (labels: Record<string, string>) => boolean;

// `a=b`, `a==b`, `a!=b`, `a in (b,c)`, `a notin (b)`, `a`, `!a`, comma-separated (ANDed).
const REQUIREMENT =
  /^\s*(?:(!)\s*([\w./-]+)|([\w./-]+)\s*(?:(==?|!=)\s*([\w.-]*)|\s(in|notin)\s*\(([^)]*)\))?)\s*$/;

/**
 * Parses a label selector as the API server writes it in a query (the metric selectors the HPA
 * sends): equality and set requirements. Our metrics carry few labels, so a selector is matched
 * here rather than pulled in with a library. Undefined for a selector that does not parse.
 */
export function parseLabelSelector(text: string | undefined): LabelSelector | undefined {
  const reqs: Requirement[] = [];
  for (const part of splitTopLevel(text ?? "")) {
    const m = REQUIREMENT.exec(part);
    if (!m) return undefined;
    const [, not, notKey, key = "", op, value = "", setOp, set = ""] = m;
    if (not && notKey) reqs.push({ key: notKey, op: "!exists" });
    else if (op) reqs.push({ key, op: op === "!=" ? "notin" : "in", values: [value] });
    else if (setOp === "in" || setOp === "notin")
      reqs.push({ key, op: setOp, values: set.split(",").map((v) => v.trim()) });
    else reqs.push({ key, op: "exists" });
  }
  return (labels) =>
    reqs.every((r) => {
      const v = labels[r.key];
      switch (r.op) {
        case "exists":
          return v !== undefined;
        case "!exists":
          return v === undefined;
        case "in":
          return v !== undefined && r.values.includes(v);
        default:
          return v === undefined || !r.values.includes(v);
      }
    });
}

/** Splits on the commas that separate requirements, not those inside `in (a,b)`. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  const last = text.slice(start);
  if (parts.length > 0 || last.trim() !== "") parts.push(last);
  return parts;
}
