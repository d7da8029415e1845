// The runtime image holds production dependencies only (Dockerfile: `npm ci --omit=dev`), so
// every program a manifest runs must import nothing else. Without a Docker engine to build the
// image, this follows each program's imports from its source: relative ones to their files,
// bare ones to a package that must be a node builtin or in package.json's "dependencies".
// Type-only imports are erased by the compiler and do not count; a dynamic import() loads only
// on its own path (when that feature is used), so it is not followed either.
import { readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  allContainers,
  deployTree,
  KUSTOMIZATIONS,
  kustomize,
  parseObjects,
  podSpec,
  repoRoot,
  toolsBin,
} from "./k8s-render.ts";

let programs: string[] = [];
let tree: Awaited<ReturnType<typeof deployTree>>;

beforeAll(async () => {
  const bin = await toolsBin();
  tree = await deployTree();
  const found = new Set<string>();
  for (const k of KUSTOMIZATIONS) {
    for (const o of parseObjects(await kustomize(bin, path.join(tree.dir, "k8s", k)))) {
      for (const c of allContainers(podSpec(o))) {
        const program = (c.args as string[]).find((a) => a.startsWith("dist/"));
        if (program) found.add(program.replace(/^dist\//, "").replace(/\.js$/, ".ts"));
      }
    }
  }
  programs = [...found].sort();
}, 60 * 60_000);
afterAll(async () => {
  await tree?.remove();
});

// import x from "m"; import {a} from "m"; import "m"; export {a} from "m" (not import("m"))
const IMPORT = /(?:^|[\s;])(?:import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/g;

/** Bare package names a source file and everything it imports (relatively) need at run time. */
async function runtimePackages(entry: string): Promise<Map<string, string>> {
  const packages = new Map<string, string>(); // package → first file that imports it
  const seen = new Set<string>();
  const queue = [path.join(repoRoot, entry)];
  for (let file = queue.pop(); file; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(file, "utf8");
    for (const m of text.matchAll(IMPORT)) {
      if (m[1]) continue; // import type / export type: erased
      const spec = m[2] ?? "";
      if (spec.startsWith(".")) {
        queue.push(path.resolve(path.dirname(file), spec));
      } else {
        const name = spec.startsWith("@")
          ? spec.split("/").slice(0, 2).join("/")
          : spec.split("/")[0];
        if (name && !packages.has(name)) packages.set(name, path.relative(repoRoot, file));
      }
    }
  }
  return packages;
}

const PROGRAMS = [
  "services/api/main.ts",
  "services/worker/main.ts",
  "sidecar/agent/main.ts",
  "sidecar/controller/main.ts",
  "tools/load/main.ts",
];

it("the manifests run these five programs from dist/", () => {
  expect(programs).toEqual(PROGRAMS);
});

async function missingFromImage(program: string): Promise<string[]> {
  const pkg = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
  const needed = await runtimePackages(program);
  expect(needed.size, `${program} imports nothing?`).toBeGreaterThan(0);
  return [...needed]
    .filter(([name]) => !name.startsWith("node:") && !allowed.has(name))
    .map(([name, file]) => `${name} (imported by ${file})`);
}

it.each(PROGRAMS)("%s imports only node builtins and production dependencies", async (program) => {
  expect(await missingFromImage(program)).toEqual([]);
});

it("the check sees a dev dependency where one is imported (the benchmarks use autocannon)", async () => {
  const needed = await runtimePackages("tools/bench/service.ts");
  expect(needed.has("autocannon")).toBe(true);
});
