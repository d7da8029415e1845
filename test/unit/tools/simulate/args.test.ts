import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { parseSimulateArgs } from "../../../../tools/simulate/args.ts";
import { DEFAULTS, POLICY_NAMES } from "../../../../tools/simulate/run.ts";
import { BUILTIN_NAMES } from "../../../../tools/simulate/traces.ts";

const noFiles = (file: string): string => {
  throw new Error(`ENOENT: no such file or directory, open '${file}'`);
};
const parse = (argv: string[], readText = noFiles) => parseSimulateArgs(argv, readText);

describe("parseSimulateArgs", () => {
  it("no flags: every built-in trace under every policy, at the defaults", () => {
    expect(parse([])).toEqual({
      ok: true,
      value: {
        traces: [...BUILTIN_NAMES],
        policies: [...POLICY_NAMES],
        options: DEFAULTS,
        json: false,
        markdown: false,
        summary: false,
      },
    });
  });

  it("reads the flags it is given", () => {
    const r = parse(["--trace", "spike", "--policy", "hpa", "--slo", "250", "--seeds", "2..4"]);
    expect(r).toMatchObject({
      ok: true,
      value: {
        traces: ["spike"],
        policies: ["hpa"],
        options: { sloMs: 250 },
        seeds: { from: 2, to: 4 },
      },
    });
  });

  it("--help", () => {
    expect(parse(["--help"])).toBe("help");
    expect(parse(["-h"])).toBe("help");
  });

  it("--policy-file: the spec of a ScalingPolicy resource, or a bare spec", () => {
    const file = "tools/simulate/policy.example.yaml";
    const resource = readFileSync(file, "utf8");
    const bare = stringify((parseYaml(resource) as { spec: unknown }).spec);
    for (const text of [resource, bare]) {
      const r = parse(["--policy-file", file], () => text);
      if (r === "help" || !r.ok) throw new Error(`not parsed: ${JSON.stringify(r)}`);
      expect(r.value.options.swellPolicy).toMatchObject({ minReplicas: 1, maxReplicas: 1000 });
    }
  });

  // Each bad value is one problem line naming its flag (main prints them via configOrExit).
  it.each<[string[], string]>([
    [["--service-rate", "0"], '--service-rate: expected requests/s per replica > 0, got "0"'],
    [["--cold-start", "601"], '--cold-start: expected seconds in [0, 600], got "601"'],
    [["--slo=-1"], '--slo: expected milliseconds > 0, got "-1"'],
    [["--seed", "1.5"], '--seed: expected an integer, got "1.5"'],
    [["--queue-cap", "x"], '--queue-cap: expected requests >= 0, got "x"'],
    [["--hpa-delay=-2"], '--hpa-delay: expected seconds >= 0, got "-2"'],
    [["--pod-queue-cap=-1"], '--pod-queue-cap: expected requests >= 0, got "-1"'],
    [["--hpa-target", "1.5"], '--hpa-target: expected a fraction in (0, 1], got "1.5"'],
    [["--kpa-utilization", "0"], '--kpa-utilization: expected a fraction in (0, 1], got "0"'],
    [
      ["--container-concurrency", "0"],
      '--container-concurrency: expected an integer >= 1, got "0"',
    ],
    [["--kpa-metric", "cpu"], '--kpa-metric: expected concurrency or rps, got "cpu"'],
    [["--seeds", "5..1"], '--seeds: expected A..B with integers A <= B, got "5..1"'],
    [["--seeds", "3"], '--seeds: expected A..B with integers A <= B, got "3"'],
    [["--policy", "nope"], '--policy: expected one of swell, hpa, kpa, oracle or all, got "nope"'],
    [["--json", "--summary"], "--json, --markdown and --summary: choose one"],
    [
      ["--policy-file", "gone.yaml"],
      "--policy-file: ENOENT: no such file or directory, open 'gone.yaml'",
    ],
    [["--bogus"], "Unknown option '--bogus'"],
    [["--slo", "-1"], "Option '--slo' argument is ambiguous. Did you forget"],
  ])("%j: %s", (argv, problem) => {
    const r = parse(argv);
    expect(r).toEqual({ ok: false, problems: [expect.stringContaining(problem)] });
    expect(r).toEqual({ ok: false, problems: [expect.not.stringContaining("\n")] });
  });

  it("reports every bad flag at once, in order", () => {
    const r = parse(["--policy", "nope", "--slo=-1", "--seeds", "5..1", "--kpa-metric", "cpu"]);
    expect(r).toEqual({
      ok: false,
      problems: [
        '--slo: expected milliseconds > 0, got "-1"',
        '--kpa-metric: expected concurrency or rps, got "cpu"',
        '--seeds: expected A..B with integers A <= B, got "5..1"',
        '--policy: expected one of swell, hpa, kpa, oracle or all, got "nope"',
      ],
    });
  });

  it("a policy file's problems each name the file and the field", () => {
    const r = parse(["--policy-file", "p.yaml"], () => "minReplicas: -1\n");
    if (r === "help" || r.ok) throw new Error(`parsed: ${JSON.stringify(r)}`);
    expect(r.problems.length).toBeGreaterThan(0);
    for (const line of r.problems) expect(line).toMatch(/^--policy-file p\.yaml: spec\.\w+/);
  });
});
