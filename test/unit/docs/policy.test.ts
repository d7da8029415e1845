/** The ScalingPolicy examples in the docs parse as they are. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { formatPolicyIssues, ScalingPolicy } from "../../../sidecar/protocol/policy.ts";

const files = ["docs/policy.md", "tools/simulate/policy.example.yaml"];

function examples(file: string): string[] {
  const text = readFileSync(file, "utf8");
  if (file.endsWith(".yaml")) return [text];
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1] as string)
    .filter((y) => y.includes("kind: ScalingPolicy"));
}

describe("documented ScalingPolicy examples", () => {
  const cases = files.flatMap((f) => examples(f).map((y, i) => [`${f} #${i + 1}`, y] as const));

  it("there are some", () => {
    expect(cases.length).toBeGreaterThanOrEqual(3);
  });

  it.each(cases)("%s is valid", (_name, yaml) => {
    const r = ScalingPolicy.safeParse(parse(yaml));
    expect(r.success ? [] : formatPolicyIssues(r.error)).toEqual([]);
  });
});
