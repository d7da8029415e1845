import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { scalingPolicyCrd } from "../../../../tools/crd/crd.ts";

describe("ScalingPolicy CRD", () => {
  it("k8s/base/crds/scalingpolicies.yaml is what the zod schema generates (npm run gen:crd)", () => {
    const onDisk = parse(readFileSync("k8s/base/crds/scalingpolicies.yaml", "utf8"));
    expect(onDisk).toEqual(scalingPolicyCrd());
  });
});
