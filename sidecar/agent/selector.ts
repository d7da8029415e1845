import type { Labels } from "./exposition.ts";

export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
  /** Anchored, as in PromQL: `=~"a|b"` matches the whole value. */
  regex?: RegExp;
}

/** One metric with PromQL-style label matchers: `work_jobs_total{outcome=~"accepted|rejected"}`. */
export interface Selector {
  metric: string;
  matchers: Matcher[];
  /** As written, for logs and the docs. */
  text: string;
}

export type ParseSelectorsResult = { ok: true; value: Selector[] } | { ok: false; error: string };

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const OP = /=~|!~|!=|=/y;
const SPACE = /\s*/y;
const OR = /\s*or\s+/y;

/**
 * Parses `sel or sel or …`: the alternatives a signal is read from, first present wins.
 * `none` (alone) means the signal is not reported. Pure; a syntax error says where.
 */
export function parseSelectors(text: string): ParseSelectorsResult {
  const src = text.trim();
  if (src === "none") return { ok: true, value: [] };
  const out: Selector[] = [];
  let pos = 0;
  const at = (re: RegExp): string | undefined => {
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) return undefined;
    pos = re.lastIndex;
    return m[0];
  };
  const fail = (what: string) =>
    ({
      ok: false,
      error: `expected ${what} at character ${pos + 1} of ${JSON.stringify(src)}`,
    }) as const;

  for (;;) {
    const start = pos;
    const metric = at(NAME);
    if (!metric) return fail("a metric name");
    const matchers: Matcher[] = [];
    at(SPACE);
    if (src[pos] === "{") {
      pos++;
      for (;;) {
        at(SPACE);
        if (src[pos] === "}") break;
        const label = at(LABEL);
        if (!label) return fail("a label name");
        at(SPACE);
        const op = at(OP) as MatchOp | undefined;
        if (!op) return fail("=, !=, =~ or !~");
        at(SPACE);
        const value = readQuoted(src, pos);
        if (!value) return fail("a double-quoted value");
        pos = value.end;
        const matcher: Matcher = { label, op, value: value.text };
        if (op === "=~" || op === "!~") {
          try {
            matcher.regex = new RegExp(`^(?:${value.text})$`);
          } catch {
            return { ok: false, error: `invalid regular expression ${JSON.stringify(value.text)}` };
          }
        }
        matchers.push(matcher);
        at(SPACE);
        if (src[pos] === ",") pos++;
        else if (src[pos] !== "}") return fail(", or }");
      }
      pos++;
    }
    out.push({ metric, matchers, text: src.slice(start, pos).trim() });
    if (pos >= src.length) return { ok: true, value: out };
    if (!at(OR)) return fail('" or " or the end');
  }
}

function readQuoted(src: string, pos: number): { text: string; end: number } | undefined {
  if (src[pos] !== '"') return undefined;
  let text = "";
  for (let i = pos + 1; i < src.length; i++) {
    const c = src[i];
    if (c === "\\" && i + 1 < src.length) {
      text += src[++i];
    } else if (c === '"') {
      return { text, end: i + 1 };
    } else {
      text += c;
    }
  }
  return undefined;
}

/** Whether a series' labels satisfy every matcher; an absent label reads as "", as in PromQL. */
export function matches(selector: Selector, labels: Labels): boolean {
  return selector.matchers.every((m) => {
    const v = labels[m.label] ?? "";
    switch (m.op) {
      case "=":
        return v === m.value;
      case "!=":
        return v !== m.value;
      case "=~":
        return m.regex?.test(v) ?? false;
      default:
        return !(m.regex?.test(v) ?? false);
    }
  });
}
