// Helpers for the tests of k8s/, Dockerfile and skaffold.yaml (k8s-*.test.ts, skaffold-*.test.ts):
// the skaffold and kubectl that tools/skaffold/build.sh builds, a copy of the repo's deploy
// files to run them on, and the rendered objects.
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { run } from "../../tools/node/skaffold.ts";

// The programs, the copy of the deploy files and running them live in tools/node/skaffold.ts,
// shared with the bench's real-node phase.
export {
  deployTree,
  type RunResult,
  repoRoot,
  run,
  toolsBin,
  toolsEnv,
} from "../../tools/node/skaffold.ts";

/** The overlays under k8s/overlays, each rendered and checked. */
export const OVERLAYS = ["dev", "load", "hpa", "hpa-load", "hpa-cpu"] as const;
/** The kustomizations the tests render: the base and every overlay. */
export const KUSTOMIZATIONS = ["base", ...OVERLAYS.map((o) => `overlays/${o}`)] as const;

/** A rendered Kubernetes object, loosely typed: the tests read what they check. */
// biome-ignore lint/suspicious/noExplicitAny: rendered YAML of any kind
export type K8sObject = Record<string, any> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

/** The objects of a multi-document YAML stream (empty documents skipped). */
export function parseObjects(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`bad YAML: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value) out.push(value);
  }
  return out;
}

/** `kubectl kustomize` (kustomize built into the built kubectl) of one kustomization folder. */
export async function kustomize(bin: string, dir: string): Promise<string> {
  const r = await run(path.join(bin, "kubectl"), ["kustomize", dir]);
  if (r.code !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return r.stdout;
}

/** The pod template's spec of a workload (Deployment or Job). */
// biome-ignore lint/suspicious/noExplicitAny: rendered YAML
export function podSpec(o: K8sObject): any {
  return o.spec?.template?.spec;
}

/** Every container of a pod spec, native sidecars (initContainers) included. */
// biome-ignore lint/suspicious/noExplicitAny: rendered YAML
export function allContainers(spec: any): any[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} among ${objects.map(label).join(", ")}`);
  return o;
}

export const label = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
