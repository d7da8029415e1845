import { describe, expect, it } from "vitest";
import { matches, parseSelectors } from "../../../../sidecar/agent/selector.ts";

describe("parseSelectors", () => {
  it.each([
    { text: "work_queue_length", metrics: ["work_queue_length"], matchers: 0 },
    { text: "none", metrics: [], matchers: 0 },
    { text: 'a_total{x="1"} or b', metrics: ["a_total", "b"], matchers: 1 },
    { text: ' a { x = "1" , y !~ "p|q" , } or  b:c ', metrics: ["a", "b:c"], matchers: 2 },
    { text: 'a{x="say \\"hi\\""}', metrics: ["a"], matchers: 1 },
    { text: 'a{x="or"} or b{y=~".* or .*"}', metrics: ["a", "b"], matchers: 1 },
  ])("$text", ({ text, metrics, matchers }) => {
    const parsed = parseSelectors(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.map((s) => s.metric)).toEqual(metrics);
    expect(parsed.value[0]?.matchers.length ?? 0).toBe(matchers);
  });

  it.each([
    { text: "", where: "metric name" },
    { text: "1abc", where: "metric name" },
    { text: "a{x=1}", where: "double-quoted" },
    { text: 'a{x~"1"}', where: "=, !=, =~ or !~" },
    { text: 'a{x="1"', where: ", or }" },
    { text: "a b", where: '" or "' },
    { text: "a or", where: '" or "' },
    { text: 'a{x=~"("}', where: "invalid regular expression" },
  ])("refuses $text", ({ text, where }) => {
    const parsed = parseSelectors(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(where);
  });
});

describe("matches", () => {
  const one = (text: string) => {
    const parsed = parseSelectors(text);
    if (!parsed.ok || !parsed.value[0]) throw new Error("bad selector");
    return parsed.value[0];
  };
  it.each([
    { sel: 'm{outcome=~"accepted|rejected"}', labels: { outcome: "accepted" }, want: true },
    { sel: 'm{outcome=~"accepted|rejected"}', labels: { outcome: "accepted_x" }, want: false },
    { sel: 'm{route!~"/metrics|/healthz|/readyz"}', labels: { route: "/jobs" }, want: true },
    { sel: 'm{route!~"/metrics|/healthz|/readyz"}', labels: { route: "/metrics" }, want: false },
    { sel: 'm{code="429"}', labels: { code: "429" }, want: true },
    { sel: 'm{code!="429"}', labels: { code: "429" }, want: false },
    { sel: 'm{code=""}', labels: {}, want: true }, // an absent label reads as ""
    { sel: "m", labels: { any: "thing" }, want: true },
  ] as { sel: string; labels: Record<string, string>; want: boolean }[])(
    "$sel on $labels → $want",
    ({ sel, labels, want }) => {
      expect(matches(one(sel), labels)).toBe(want);
    },
  );
});
