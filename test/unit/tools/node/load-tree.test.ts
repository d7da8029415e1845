import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { CI_LOAD, SHAPED_FILES, shapeJob, shapeScaler } from "../../../../tools/node/load-tree.ts";

const repo = path.resolve(import.meta.dirname, "../../../..");
const read = (f: string) => readFile(path.join(repo, f), "utf8");
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML
const docs = (text: string): any[] => parseAllDocuments(text).map((d) => d.toJS());

describe("the load shape for the real node (on the repository's own manifests)", () => {
  it("the Job: suspended, the spike kept, its length and peaks changed, its CPU requests not", async () => {
    const [job] = docs(shapeJob(await read(SHAPED_FILES.job), CI_LOAD));
    const [original] = docs(await read(SHAPED_FILES.job));
    const shipped = Object.fromEntries(
      // biome-ignore lint/suspicious/noExplicitAny: parsed YAML
      original.spec.template.spec.containers.map((c: any) => [c.name, c]),
    );
    expect(job.spec.suspend).toBe(true);
    expect(job.spec.activeDeadlineSeconds).toBe(CI_LOAD.durationS + 300);
    const byName = Object.fromEntries(
      // biome-ignore lint/suspicious/noExplicitAny: parsed YAML
      job.spec.template.spec.containers.map((c: any) => [c.name, c]),
    );
    for (const w of ["api", "worker"] as const) {
      const args: string[] = byName[w].args;
      expect(args).toContain("--profile=spike");
      expect(args).toContain(`--rps=${CI_LOAD.rps[w]}`);
      expect(args).toContain(`--duration=${CI_LOAD.durationS}s`);
      expect(
        args.filter((a) => a.startsWith("--rps=") || a.startsWith("--duration=")),
      ).toHaveLength(2);
      expect(byName[w].resources).toEqual(shipped[w].resources);
    }
  });

  it.each([
    { file: SHAPED_FILES.apiPolicy, kind: "ScalingPolicy", names: ["api"] },
    { file: SHAPED_FILES.workerPolicy, kind: "ScalingPolicy", names: ["worker"] },
    { file: SHAPED_FILES.hpa, kind: "HorizontalPodAutoscaler", names: ["api", "worker"] },
  ] as const)("$file: maxReplicas and the scale-down window", async ({ file, kind, names }) => {
    const before = docs(await read(file));
    const after = docs(shapeScaler(await read(file), CI_LOAD));
    expect(after.map((o) => [o.kind, o.metadata.name])).toEqual(names.map((n) => [kind, n]));
    for (const [i, o] of after.entries()) {
      const name = o.metadata.name as "api" | "worker";
      expect(o.spec.maxReplicas).toBe(CI_LOAD.maxReplicas[name]);
      expect(o.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(CI_LOAD.scaleDownWindowS);
      // The rest stays as shipped: the targets, minReplicas and the scale-up behavior.
      expect(o.spec.metrics).toEqual(before[i].spec.metrics);
      expect(o.spec.minReplicas).toBe(before[i].spec.minReplicas);
      expect(o.spec.behavior.scaleUp).toEqual(before[i].spec.behavior.scaleUp);
    }
  });

  it("a Job without the flags it rewrites is an error, not a silent no-op", () => {
    const job = `apiVersion: batch/v1
kind: Job
metadata: { name: load }
spec:
  template:
    spec:
      containers:
        - { name: api, image: swell, args: [--profile=spike], resources: { requests: { cpu: 1 } } }
`;
    expect(() => shapeJob(job, CI_LOAD)).toThrow(/--rps/);
  });
});
