import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parsePolicies } from "../../../../sidecar/controller/policies.ts";
import { parseLocalStack } from "../../../../tools/local/config.ts";

const shipped = readFileSync("swell.local.yaml", "utf8");

describe("swell.local.yaml", () => {
  it("the shipped file holds a valid stack and one valid policy per service", () => {
    const stack = parseLocalStack(shipped, "swell.local.yaml", {});
    const policies = parsePolicies(shipped, "swell.local.yaml");
    expect(stack.ok && stack.stack.services.map((s) => [s.name, s.port])).toEqual([
      ["api", 8080],
      ["worker", 8081],
    ]);
    expect(policies.ok && policies.policies.map((p) => p.spec.targetRef.name)).toEqual([
      "api",
      "worker",
    ]);
  });

  it("ports follow CONTROLLER_PORT and <SERVICE>_PORT", () => {
    const r = parseLocalStack(shipped, "f", { CONTROLLER_PORT: "19090", WORKER_PORT: "0" });
    expect(r.ok && [r.stack.controller.port, ...r.stack.services.map((s) => s.port)]).toEqual([
      19090, 8080, 0,
    ]);
  });

  it.each([
    {
      name: "a bad port variable",
      text: shipped,
      env: { API_PORT: "http" },
      problem: "API_PORT: expected an integer",
    },
    {
      name: "no LocalStack document",
      text: "kind: Other\n",
      env: {},
      problem: "no document of kind LocalStack",
    },
    {
      name: "no services",
      text: "apiVersion: swell.dev/v1alpha1\nkind: LocalStack\ncontroller: {}\nservices: []\n",
      env: {},
      problem: "LocalStack.services",
    },
    {
      name: "an unknown field",
      text: shipped.replace("kind: LocalStack", "kind: LocalStack\nreplicas: 3"),
      env: {},
      problem: "replicas",
    },
  ])("refuses $name, saying where", ({ text, env, problem }) => {
    const r = parseLocalStack(text, "f.yaml", env);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.join("\n")).toContain(problem);
  });

  it.each([
    {
      name: "two policies for one target",
      text: `${shipped}\n---\n${shipped.split("---")[2]}`,
      problem: "already targeted",
    },
    {
      name: "maxReplicas below minReplicas",
      text: shipped.replace("maxReplicas: 6", "maxReplicas: 0"),
      problem: "maxReplicas",
    },
    { name: "no policy at all", text: "kind: LocalStack\n", problem: "no ScalingPolicy" },
  ])("policies: refuses $name", ({ text, problem }) => {
    const r = parsePolicies(text, "f.yaml");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.join("\n")).toContain(problem);
  });
});
