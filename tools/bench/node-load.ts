// `npm run bench -- --node`: the same load on the real node (tools/node) against swell's
// ScalingPolicies (`skaffold run -p load`) and a plain HPA on swell's signals (`-p hpa-load`),
// alternating, 3 runs each (1 with --quick), in the CI shape of test/node/load.test.ts
// (tools/node/load-tree.ts). For each scaler and workload: seconds from the surge to the first
// scale write, to the first new pod Ready, to the first request a new pod answered (p50, p95);
// the image's size and the new pods' start (created → Ready). Needs root and the node's lock
// (`flock /tmp/swell-node.lock npm run bench -- --node`).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { AppsV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { loadRunChart } from "../node/load-chart.ts";
import type { RunFigures } from "../node/load-figures.ts";
import {
  deleteNodeLoad,
  type LoadProfile,
  type LoadRun,
  NAMESPACE,
  runNodeLoad,
  WORKLOADS,
} from "../node/load-run.ts";
import { CI_LOAD, shapeLoadTree } from "../node/load-tree.ts";
import { startRealNode } from "../node/node.ts";
import { deployTree, nodeSkaffold, repoRoot, toolsBin } from "../node/skaffold.ts";
import type { BenchContext } from "./context.ts";
import {
  dockerImageBytes,
  registryImageBytes,
  type StatsSummary,
  startStatsSampler,
} from "./node-stats.ts";
import { percentile } from "./stats.ts";

export type Scaler = "swell" | "hpa";
export const PROFILES: Record<Scaler, LoadProfile> = { swell: "load", hpa: "hpa-load" };

export interface Dist {
  p50S: number;
  p95S: number;
  /** One per run; NaN where a run never got there. */
  runsS: number[];
}

export interface WorkloadIntervals {
  scaleWrite: Dist;
  newPodReady: Dist;
  newPodServed: Dist;
  maxReplicas: number[];
}

export interface NodeLoadResult {
  runsPerScaler: number;
  shape: typeof CI_LOAD;
  scalers: Record<Scaler, Record<string, WorkloadIntervals>>;
  /** Runs whose checks failed (not back down, 5xx, jobs lost): their figures still count. */
  troubled: string[];
  /** Unpacked, as the node's Docker engine counts it. */
  imageMb: number;
  /** Compressed, as the registry serves it: what a node pulls the first time. */
  imageRegistryMb: number;
  /** creationTimestamp → Ready of every new pod of every run (second precision). */
  podStart: { p50S: number; p95S: number; n: number };
  /**
   * Per run, the kubelet's own stats (/stats/summary, tools/bench/node-stats.ts) of each
   * workload's containers over the run: agent next to app, working set and CPU.
   */
  nodeStats: { scaler: Scaler; run: number; stats: StatsSummary | { error: string } }[];
  /** Where the recordings and charts went. */
  outDir: string;
}

/** A sampler started beside each load run, its result kept per run. */
export type NodeStatsHook = (kc: KubeConfig) => { stop(): Promise<unknown> };

/** The default: the kubelet's Summary API for the swell namespace, every 2 s (node-stats.ts). */
export const kubeletStats: NodeStatsHook = (kc) =>
  startStatsSampler({
    kubeConfig: kc,
    core: kc.makeApiClient(CoreV1Api),
    nodeName: "swn-node",
    namespace: NAMESPACE,
    intervalMs: 2_000,
  });

const dist = (values: number[]): Dist => {
  const finite = values.filter(Number.isFinite);
  return { p50S: percentile(finite, 50), p95S: percentile(finite, 95), runsS: values };
};

/** The intervals of the runs of one scaler, per workload. Pure. */
export function intervals(figures: readonly RunFigures[]): Record<string, WorkloadIntervals> {
  const out: Record<string, WorkloadIntervals> = {};
  for (const w of WORKLOADS) {
    const pick = (f: (x: RunFigures["workloads"][string]) => number | undefined) =>
      figures.map((r) => {
        const x = r.workloads[w];
        return x ? (f(x) ?? Number.NaN) : Number.NaN;
      });
    out[w] = {
      scaleWrite: dist(pick((x) => x.firstScaleWriteS)),
      newPodReady: dist(pick((x) => x.firstNewReadyS)),
      newPodServed: dist(pick((x) => x.firstNewServedS)),
      maxReplicas: pick((x) => x.maxReplicas),
    };
  }
  return out;
}

/** What a run's checks (as test/node/load.test.ts makes them) found wrong; empty when none. Pure. */
export function troubles(run: LoadRun): string[] {
  const f = run.figures;
  const out: string[] = [];
  if (!run.settled) out.push("not back down to minReplicas");
  if ((f.load.api?.serverErrors ?? 1) > 0) out.push(`api 5xx: ${f.load.api?.serverErrors}`);
  if (f.jobs.finished !== f.jobs.accepted || f.jobs.abandoned > 0 || f.jobs.unaccounted.length)
    out.push(`jobs: ${JSON.stringify(f.jobs)}`);
  return out;
}

export async function benchNodeLoad(
  ctx: BenchContext,
  statsHook: NodeStatsHook = kubeletStats,
): Promise<NodeLoadResult> {
  if (process.getuid?.() !== 0) {
    throw new Error("--node needs root (the real node makes interfaces, mounts and cgroups)");
  }
  const runsPerScaler = ctx.quick ? 1 : 3;
  const outDir = path.join(repoRoot, "out/bench-node");
  await mkdir(outDir, { recursive: true });
  ctx.progress("node: starting the real node (tools/node)");
  const node = await startRealNode({ log: (line) => ctx.progress(line) });
  const stopNode = () => node.stop();
  ctx.cleanup.add(stopNode);
  const bin = await toolsBin();
  const tree = await deployTree();
  const home = await mkdtemp(path.join(tmpdir(), "swell-bench-home-"));
  try {
    await shapeLoadTree(tree.dir, CI_LOAD);
    const kc = new KubeConfig();
    kc.loadFromFile(node.kubeconfigPath);
    const skaffold = nodeSkaffold(bin, tree.dir, home, node);
    const figures: Record<Scaler, RunFigures[]> = { swell: [], hpa: [] };
    const troubled: string[] = [];
    const podStarts: number[] = [];
    const nodeStats: NodeLoadResult["nodeStats"] = [];
    let image = "";
    for (let i = 0; i < runsPerScaler; i++) {
      // Alternating, so a busier minute of the machine falls on both.
      for (const scaler of ["swell", "hpa"] as const) {
        const profile = PROFILES[scaler];
        ctx.progress(`node: run ${i + 1}/${runsPerScaler}, ${scaler} (skaffold run -p ${profile})`);
        const run = await runNodeLoad({
          kc,
          skaffold,
          profile,
          defaultRepo: node.defaultRepo,
          durationS: CI_LOAD.durationS,
          scaleDownWindowS: CI_LOAD.scaleDownWindowS,
          log: (line) => ctx.progress(line),
          alongside: () => statsHook(kc),
        });
        if (!image) {
          const d = await kc
            .makeApiClient(AppsV1Api)
            .readNamespacedDeployment({ name: "api", namespace: NAMESPACE });
          image = d.spec?.template.spec?.containers[0]?.image ?? "";
        }
        figures[scaler].push(run.figures);
        for (const w of Object.values(run.figures.workloads)) podStarts.push(...w.podStartS);
        nodeStats.push({
          scaler,
          run: i + 1,
          stats: (run.alongside ?? { error: "no sampler" }) as StatsSummary | { error: string },
        });
        const wrong = troubles(run);
        if (wrong.length) troubled.push(`${scaler} run ${i + 1}: ${wrong.join("; ")}`);
        const base = path.join(outDir, `${scaler}-${i + 1}`);
        await writeFile(
          `${base}.json`,
          JSON.stringify({ figures: run.figures, recording: run.recording }),
        );
        const chart = await loadRunChart(
          run.recording,
          run.figures,
          `${scaler === "swell" ? "swell (skaffold run -p load)" : "plain HPA (skaffold run -p hpa-load)"} on the real node`,
        );
        await writeFile(`${base}.svg`, chart.svg);
        await writeFile(`${base}.png`, chart.png);
        await deleteNodeLoad(kc, skaffold, profile);
      }
    }
    // 127.0.0.1:<port>/swell:<tag>@sha256:<digest>, as skaffold deployed it.
    const digest = image.split("@")[1];
    const imageRegistryMb = digest
      ? (await registryImageBytes(node.defaultRepo, "swell", digest)) / 1e6
      : Number.NaN;
    return {
      runsPerScaler,
      shape: CI_LOAD,
      scalers: { swell: intervals(figures.swell), hpa: intervals(figures.hpa) },
      troubled,
      imageMb: (await dockerImageBytes(node.dockerSocket, image)) / 1e6,
      imageRegistryMb,
      podStart: {
        p50S: percentile(podStarts, 50),
        p95S: percentile(podStarts, 95),
        n: podStarts.length,
      },
      nodeStats,
      outDir,
    };
  } finally {
    await tree.remove();
    await rm(home, { recursive: true, force: true });
    await stopNode();
    ctx.cleanup.delete(stopNode);
  }
}
