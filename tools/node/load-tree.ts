// The load profiles (k8s/components/load, the ScalingPolicies, k8s/overlays/hpa) resized for a
// run on the one 2-core real node, in a COPY of the deploy files (tools/node/skaffold.ts
// deployTree). As shipped, the Job runs 10 min and scale-down waits 5 min: right for watching
// a cluster, too long for CI. The spike's shape stays (a tenth of the peak, the peak from 20 %
// to 50 % of the run, a tenth again); only its length, its peaks, the scale-down window and
// the replica ceilings change, so that every pod at maxReplicas fits the node's CPU.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments, stringify } from "yaml";

export interface LoadShape {
  /** The Job's --duration, seconds. */
  durationS: number;
  /** Peak --rps of the Job's api and worker containers. */
  rps: { api: number; worker: number };
  /** scaleDown.stabilizationWindowSeconds of the ScalingPolicies and the HPAs. */
  scaleDownWindowS: number;
  /** maxReplicas of the ScalingPolicies and the HPAs. */
  maxReplicas: { api: number; worker: number };
  /**
   * Deploy the Job suspended (spec.suspend): the caller resumes it once its recorder is
   * watching, so the whole load is seen, from its first request.
   */
  suspend: boolean;
}

/**
 * The CI shape: 2 min instead of 10, scale-down after 30 s instead of 5 min. Peaks of 180 req/s
 * on the api and 45 jobs/s on the worker (the shipped 300 and 90 would want 5 and 6 pods) ask
 * for 3 replicas each at the policies' per-pod targets (60 and 15), and their 30 s averages
 * cross 2 replicas' worth about 19 s into the 36 s peak; the ceilings (3 each) keep those 6
 * pods (220m each with the agent), the 2 controllers (100m) and the Job (300m) within the
 * node's 2 CPUs.
 */
export const CI_LOAD: LoadShape = {
  durationS: 120,
  rps: { api: 180, worker: 45 },
  scaleDownWindowS: 30,
  maxReplicas: { api: 3, worker: 3 },
  suspend: true,
};

/** The files a shape rewrites, relative to the deploy tree. */
export const SHAPED_FILES = {
  job: "k8s/components/load/job.yaml",
  apiPolicy: "k8s/base/api/scalingpolicy.yaml",
  workerPolicy: "k8s/base/worker/scalingpolicy.yaml",
  hpa: "k8s/overlays/hpa/hpa.yaml",
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function at(o: unknown, ...keys: string[]): Obj {
  let v: unknown = o;
  for (const k of keys) {
    if (!isObj(v) || !isObj(v[k])) throw new Error(`no ${keys.join(".")} in the manifest`);
    v = v[k];
  }
  return v as Obj;
}

/** Replaces `--flag=...` in an args list; a missing flag is an error (the Job changed shape). */
function setFlag(args: unknown, flag: string, value: string): string[] {
  if (!Array.isArray(args)) throw new Error("a load container has no args");
  const i = args.findIndex((a) => typeof a === "string" && a.startsWith(`--${flag}=`));
  if (i < 0) throw new Error(`the load container's args have no --${flag}`);
  const out = args.map(String);
  out[i] = `--${flag}=${value}`;
  return out;
}

/** The load Job, resized. Pure: YAML text in, YAML text out. */
export function shapeJob(text: string, shape: LoadShape): string {
  return mapDocs(text, (job) => {
    if (job.kind !== "Job") return job;
    const spec = at(job, "spec");
    spec.suspend = shape.suspend;
    spec.activeDeadlineSeconds = shape.durationS + 300;
    const containers = at(spec, "template", "spec").containers;
    if (!Array.isArray(containers)) throw new Error("the load Job has no containers");
    for (const c of containers as Obj[]) {
      const name = c.name;
      if (name !== "api" && name !== "worker") throw new Error(`unknown load container ${name}`);
      let args = setFlag(c.args, "rps", String(shape.rps[name]));
      args = setFlag(args, "duration", `${shape.durationS}s`);
      // Its CPU request stays as shipped: a load generator with a small share of a busy
      // machine falls behind its schedule and smears the spike (seen at 50m).
      c.args = args;
    }
    return job;
  });
}

/** A ScalingPolicy or HorizontalPodAutoscaler, resized (by its target's name). Pure. */
export function shapeScaler(text: string, shape: LoadShape): string {
  return mapDocs(text, (o) => {
    if (o.kind !== "ScalingPolicy" && o.kind !== "HorizontalPodAutoscaler") return o;
    const spec = at(o, "spec");
    const target = at(spec, o.kind === "ScalingPolicy" ? "targetRef" : "scaleTargetRef").name;
    if (target !== "api" && target !== "worker") throw new Error(`unknown target ${target}`);
    spec.maxReplicas = shape.maxReplicas[target];
    at(spec, "behavior", "scaleDown").stabilizationWindowSeconds = shape.scaleDownWindowS;
    return o;
  });
}

function mapDocs(text: string, f: (o: Obj) => Obj): string {
  const docs = parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(`bad YAML: ${d.errors[0]?.message}`);
    return d.toJS() as unknown;
  });
  // Comments are not kept: the copy is read by kubectl, not by people.
  return docs
    .filter(isObj)
    .map((o) => stringify(f(o)))
    .join("---\n");
}

/** Rewrites the load Job, both ScalingPolicies and the HPAs of the deploy tree at `dir`. */
export async function shapeLoadTree(dir: string, shape: LoadShape): Promise<void> {
  const rewrite = async (file: string, f: (text: string, s: LoadShape) => string) => {
    const p = path.join(dir, file);
    await writeFile(p, f(await readFile(p, "utf8"), shape));
  };
  await rewrite(SHAPED_FILES.job, shapeJob);
  await rewrite(SHAPED_FILES.apiPolicy, shapeScaler);
  await rewrite(SHAPED_FILES.workerPolicy, shapeScaler);
  await rewrite(SHAPED_FILES.hpa, shapeScaler);
}
