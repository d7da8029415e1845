import type { AgentResult } from "./agent.ts";
import type { ControllerResult } from "./controller.ts";
import type { Machine } from "./machine.ts";
import type { MetricsApiResult } from "./metrics-api.ts";
import type { NodeLoadResult, Scaler } from "./node-load.ts";
import type { StatsSummary } from "./node-stats.ts";
import type { ReactionResult } from "./reaction.ts";
import type { ScrapeResult } from "./scrape.ts";
import type { ServiceResult } from "./service.ts";
import { round } from "./stats.ts";
import type { Row } from "./table.ts";

/** Everything one run measured; a section that did not run or failed is undefined. */
export interface BenchResults {
  machine: Machine;
  quick: boolean;
  entries: "built" | "source";
  failures: string[];
  service?: ServiceResult;
  scrape?: ScrapeResult;
  agent?: AgentResult;
  controller?: ControllerResult;
  reaction?: ReactionResult;
  /** The same with the agents at their own default, 1 Hz: what the scrape interval contributes. */
  reactionAgentDefault?: ReactionResult;
  policy?: { table: string };
  /** Only with --only metrics-api: an HPA on swell's metrics next to swell's own controller. */
  metricsApi?: MetricsApiResult;
  /** Only with --node: load runs on the real node, swell next to a plain HPA. */
  node?: NodeLoadResult;
}

/** The JSON object of `--json`, in exactly the issue's shape; a missing figure is null. Pure. */
export function benchJson(r: BenchResults) {
  const n = (v: number | undefined, digits: number) =>
    v === undefined || !Number.isFinite(v) ? null : round(v, digits);
  return {
    service: {
      throughputRatio: n(r.service?.throughputRatio, 3),
      throughputRatioTracing: n(r.service?.throughputRatioTracing, 3),
      throughputRatioTracing10: n(r.service?.throughputRatioTracing10, 3),
    },
    scrape: { p50Ms: n(r.scrape?.p50Ms, 2), p99Ms: n(r.scrape?.p99Ms, 2) },
    agent: {
      rssMb: n(r.agent?.rssMb, 1),
      privateMb: n(r.agent?.privateMb, 1),
      cpuPercent1Hz: n(r.agent?.cpuPercent1Hz, 2),
      cpuPercent4Hz: n(r.agent?.cpuPercent4Hz, 2),
      latencyRatio: n(r.agent?.latencyRatio, 3),
    },
    controller: {
      reportsPerSecond: n(r.controller?.reportsPerSecond, 0),
      p99Ms: n(r.controller?.p99Ms, 1),
      cpuUsPerReport: n(r.controller?.cpuUsPerReport, 1),
      ofBaseline: n(r.controller?.ofBaseline, 3),
      cpuOfBaseline: n(r.controller?.cpuOfBaseline, 3),
      baselineRequestsPerSecond: n(r.controller?.baselineRequestsPerSecond, 0),
    },
    reaction: { p50Ms: n(r.reaction?.p50Ms, 0), p95Ms: n(r.reaction?.p95Ms, 0) },
    metricsApi: {
      reactionP50Ms: n(r.metricsApi?.reactionP50Ms, 0),
      reactionP95Ms: n(r.metricsApi?.reactionP95Ms, 0),
      swellP50Ms: n(r.metricsApi?.swellP50Ms, 0),
      swellP95Ms: n(r.metricsApi?.swellP95Ms, 0),
    },
    node: r.node ? nodeJson(r.node, n) : null,
    /** Each failed phase and its cause; the run exits 1 when there is any. */
    failures: r.failures,
  };
}

/** The --node figures: per scaler and workload, p50/p95 seconds of the three intervals. Pure. */
function nodeJson(x: NodeLoadResult, n: (v: number | undefined, digits: number) => number | null) {
  const scaler = (s: Scaler) =>
    Object.fromEntries(
      Object.entries(x.scalers[s]).map(([w, i]) => [
        w,
        {
          scaleWriteP50S: n(i.scaleWrite.p50S, 1),
          scaleWriteP95S: n(i.scaleWrite.p95S, 1),
          newPodReadyP50S: n(i.newPodReady.p50S, 1),
          newPodReadyP95S: n(i.newPodReady.p95S, 1),
          newPodServedP50S: n(i.newPodServed.p50S, 1),
          newPodServedP95S: n(i.newPodServed.p95S, 1),
          maxReplicas: i.maxReplicas,
        },
      ]),
    );
  return {
    runsPerScaler: x.runsPerScaler,
    swell: scaler("swell"),
    hpa: scaler("hpa"),
    imageMb: n(x.imageMb, 0),
    imageRegistryMb: n(x.imageRegistryMb, 0),
    podStartP50S: n(x.podStart.p50S, 1),
    podStartP95S: n(x.podStart.p95S, 1),
    stats: x.nodeStats.map(({ scaler, run, stats }) => ({
      scaler,
      run,
      ...("error" in stats ? { error: stats.error } : { containers: containerFigures(stats, n) }),
    })),
    troubled: x.troubled,
  };
}

/** The table's rows, with the issue's targets. Pure. */
export function benchRows(r: BenchResults): Row[] {
  const rows: Row[] = [];
  const { service: s, scrape: sc, agent: a, controller: c, reaction: re } = r;
  if (s) {
    const { apps } = s;
    const how = `median of ${s.rounds} rounds of alternating ${s.secondsPerRun} s runs`;
    const app = (a: { rps: number; cpuUsPerRequest: number }) =>
      `${a.rps.toFixed(0)} req/s, ${a.cpuUsPerRequest.toFixed(0)} µs CPU each`;
    rows.push(
      {
        section: "service",
        figure: "throughputRatio",
        value: s.throughputRatio,
        unit: "",
        target: { op: ">=", value: 0.85 },
        note: `GET /, CPU bound: api ${app(apps.api)} / bare Hono ${app(apps.bare)}; ${how}`,
      },
      {
        section: "service",
        figure: "throughputRatioTracing",
        value: s.throughputRatioTracing,
        unit: "",
        target: { op: ">=", value: 0.6 },
        note: `api exporting every span over OTLP: ${app(apps.apiTracing)}`,
      },
      {
        section: "service",
        figure: "throughputRatioTracing10",
        value: s.throughputRatioTracing10,
        unit: "",
        note: `api sampling 10 % (parentbased_traceidratio): ${app(apps.apiTracing10)}`,
      },
      {
        section: "service",
        figure: "cpuRatio",
        value: s.cpuRatio,
        unit: "",
        note: "bare ÷ api CPU per request: the throughput ratio on a core of its own",
      },
      {
        section: "service",
        figure: "… without access log",
        value: s.throughputRatioNoAccessLog,
        unit: "",
        note: `api at LOG_LEVEL=warn: ${app(apps.apiNoAccessLog)}`,
      },
      {
        section: "service",
        figure: "… at default capacity",
        value: s.throughputRatioDefaultCapacity,
        unit: "",
        note: `16 slots × 20 ms of work, no pipelining: api ${apps.api20ms.rps.toFixed(0)} / bare ${apps.bare20ms.rps.toFixed(0)} req/s`,
      },
    );
  }
  if (sc) {
    const how = `${sc.scrapes} scrapes back to back, ${(sc.bodyBytes / 1024).toFixed(0)} KiB each`;
    rows.push(
      { section: "scrape", figure: "p50Ms", value: sc.p50Ms, unit: "ms", note: how },
      { section: "scrape", figure: "p99Ms", value: sc.p99Ms, unit: "ms", note: how },
      {
        section: "scrape",
        figure: "cpuMsPerScrape",
        value: sc.cpuMsPerScrape,
        unit: "ms",
        note: "api CPU time per scrape, less the same time idle",
      },
    );
  }
  if (a) {
    const cpuHow = `agent process, ${a.windows} × ${a.windowSeconds} s while the api serves ${a.loadRps} req/s`;
    rows.push(
      {
        section: "agent",
        figure: "rssMb",
        value: a.rssMb,
        unit: "MiB",
        target: { op: "<=", value: 60 },
        note: `peak VmRSS over 1 and 4 Hz as shipped (1 Hz alone ${a.rss1HzMb.toFixed(1)})`,
      },
      {
        section: "agent",
        figure: "privateMb",
        value: a.privateMb,
        unit: "MiB",
        target: { op: "<=", value: 25 },
        note: "peak RssAnon: the RSS less the node binary's pages, which every Node process shares",
      },
      {
        section: "agent",
        figure: "… default V8 heap",
        value: a.defaultHeap.rssMb,
        unit: "MiB",
        note: `peak VmRSS at 4 Hz without AGENT_NODE_FLAGS; private ${a.defaultHeap.privateMb.toFixed(1)} MiB, CPU ${a.defaultHeap.cpuPercent4Hz.toFixed(2)} %`,
      },
      {
        section: "agent",
        figure: "… floor: node:http",
        value: a.floor.http.rssMb,
        unit: "MiB",
        note: `Node with the agent's flags serving and sending HTTP at 4 Hz, nothing else; private ${a.floor.http.privateMb.toFixed(1)} MiB (doing nothing at all: ${a.floor.empty.rssMb.toFixed(1)}, private ${a.floor.empty.privateMb.toFixed(1)})`,
      },
      {
        section: "agent",
        figure: "cpuPercent1Hz",
        value: a.cpuPercent1Hz,
        unit: "%",
        target: { op: "<=", value: 2 },
        note: `% of one core; ${cpuHow}`,
      },
      {
        section: "agent",
        figure: "cpuPercent4Hz",
        value: a.cpuPercent4Hz,
        unit: "%",
        note: "% of one core, the same at 4 Hz",
      },
      {
        section: "agent",
        figure: "latencyRatio",
        value: a.latencyRatio,
        unit: "",
        target: { op: "<=", value: 1.05 },
        note: `api p50 latency with/without the agent (1 Hz), median of ${a.latencyPairs} pairs of ${a.latencySeconds} s; mean ${fmt(a.meanLatencyRatio)}, p99 ${fmt(a.p99LatencyRatio)}`,
      },
    );
  }
  if (c) {
    rows.push(
      {
        section: "controller",
        figure: "reportsPerSecond",
        value: c.reportsPerSecond,
        unit: "/s",
        target: { op: ">=", value: 30_000 },
        note: `${c.pods} pods over ${c.workloads} workloads, ${c.connections} connections, median of ${c.rounds} × ${c.secondsPerRun} s; ${c.cpuUsPerReport.toFixed(0)} µs CPU each (${c.reportsPerCpuSecond.toFixed(0)}/s per busy core); bare server ${c.baselineRequestsPerSecond.toFixed(0)}/s at ${c.baselineCpuUsPerRequest.toFixed(0)} µs (${c.ofBaseline.toFixed(2)} of its rate, ${c.cpuOfBaseline.toFixed(2)} of its CPU cost); load client ${c.clientCpuUs.toFixed(0)} µs a report`,
      },
      {
        section: "controller",
        figure: "p99Ms",
        value: c.p99Ms,
        unit: "ms",
        target: { op: "<=", value: 10 },
        note: `ingest latency at that load; p50 ${c.p50Ms} ms; bare server p99 ${c.baselineP99Ms} ms`,
      },
    );
  }
  for (const x of [re, r.reactionAgentDefault]) {
    if (!x) continue;
    const hz = x.scrapeIntervalMs ? `${1000 / x.scrapeIntervalMs} Hz` : "";
    const section = x === re ? "reaction" : `reaction ${hz}`;
    const agents = hz ? `agents at ${hz}` : "agents as npm start runs them (2 Hz)";
    rows.push(
      {
        section,
        figure: "p50Ms",
        value: x.p50Ms,
        unit: "ms",
        note: `first request of a ${x.surgeRps} jobs/s step to the worker → applied scale-up; local stack, ${agents}; ${x.runsMs.length} runs: ${x.runsMs.join(", ")} ms${x.slowPolls > 0 ? `; ${x.slowPolls} slow reads of the decision log read again` : ""}`,
      },
      {
        section,
        figure: "p95Ms",
        value: x.p95Ms,
        unit: "ms",
        ...(x === re ? { target: { op: "<=" as const, value: 1000 } } : {}),
        note: "",
      },
    );
  }
  const m = r.metricsApi;
  if (m) {
    const how = `report step 0 → 4 replicas' worth of queueLength, to the Deployment's scale write; local control plane, HPA sync period ${m.hpaSyncSeconds} s (15 s by default)`;
    rows.push(
      {
        section: "metricsApi",
        figure: "reactionP50Ms",
        value: m.reactionP50Ms,
        unit: "ms",
        note: `HPA (type Pods) on swell's metrics API: ${how}; ${m.hpaRunsMs.length} runs: ${m.hpaRunsMs.join(", ")} ms`,
      },
      {
        section: "metricsApi",
        figure: "reactionP95Ms",
        value: m.reactionP95Ms,
        unit: "ms",
        note: "",
      },
      {
        section: "metricsApi",
        figure: "swellP50Ms",
        value: m.swellP50Ms,
        unit: "ms",
        note: `swell's controller (a ScalingPolicy with panic, as the base's) on the same step: ${m.swellRunsMs.join(", ")} ms`,
      },
      { section: "metricsApi", figure: "swellP95Ms", value: m.swellP95Ms, unit: "ms", note: "" },
    );
  }
  if (r.node) rows.push(...nodeRows(r.node));
  return rows;
}

/** Per `<workload>/<container>`: working set (MB) and CPU (millicores), p50 and max. Pure. */
function containerFigures(
  stats: StatsSummary,
  n: (v: number | undefined, digits: number) => number | null,
) {
  return Object.fromEntries(
    Object.entries(stats.containers).map(([key, c]) => [
      key,
      {
        workingSetMbP50: n(c.workingSetBytes.p50 / 1e6, 1),
        workingSetMbMax: n(c.workingSetBytes.max / 1e6, 1),
        cpuMillicoresP50: n(c.cpuNanoCores && c.cpuNanoCores.p50 / 1e6, 1),
        cpuMillicoresMax: n(c.cpuNanoCores && c.cpuNanoCores.max / 1e6, 1),
        readings: c.readings,
      },
    ]),
  );
}

function nodeRows(x: NodeLoadResult): Row[] {
  const rows: Row[] = [];
  const how = `real node, the CI shape (${x.shape.durationS} s spike to api ${x.shape.rps.api}/s, worker ${x.shape.rps.worker}/s), ${x.runsPerScaler} runs each, alternating; seconds from the surge`;
  let first = true;
  for (const [scaler, name] of [
    ["swell", "swell"],
    ["hpa", "HPA"],
  ] as const) {
    for (const [w, i] of Object.entries(x.scalers[scaler])) {
      for (const [figure, d] of [
        ["scaleWrite", i.scaleWrite],
        ["newPodReady", i.newPodReady],
        ["newPodServed", i.newPodServed],
      ] as const) {
        rows.push({
          section: `node ${name} ${w}`,
          figure: `${figure}P50S`,
          value: d.p50S,
          unit: "s",
          note: first
            ? how
            : `runs: ${d.runsS.map((v) => (Number.isFinite(v) ? v.toFixed(1) : "-")).join(", ")} s`,
        });
        rows.push({
          section: `node ${name} ${w}`,
          figure: `${figure}P95S`,
          value: d.p95S,
          unit: "s",
          note: "",
        });
        first = false;
      }
    }
  }
  rows.push(
    {
      section: "node",
      figure: "imageMb",
      value: x.imageMb,
      unit: "MB",
      note: "docker image inspect Size",
    },
    {
      section: "node",
      figure: "podStartP50S",
      value: x.podStart.p50S,
      unit: "s",
      note: `creationTimestamp → Ready of the ${x.podStart.n} new pods, second precision`,
    },
    { section: "node", figure: "podStartP95S", value: x.podStart.p95S, unit: "s", note: "" },
  );
  // The kubelet's stats of the first swell run that has them: agent next to app.
  const withStats = x.nodeStats.find((s) => s.scaler === "swell" && !("error" in s.stats));
  if (withStats && !("error" in withStats.stats)) {
    for (const [key, c] of Object.entries(withStats.stats.containers)) {
      rows.push({
        section: `node ${key}`,
        figure: "workingSetMbP50",
        value: c.workingSetBytes.p50 / 1e6,
        unit: "MB",
        note: `max ${(c.workingSetBytes.max / 1e6).toFixed(1)} MB; kubelet /stats/summary over swell run ${withStats.run}, ${c.readings} readings of ${c.pods} pods`,
      });
      if (c.cpuNanoCores) {
        rows.push({
          section: `node ${key}`,
          figure: "cpuMillicoresP50",
          value: c.cpuNanoCores.p50 / 1e6,
          unit: "m",
          note: `max ${(c.cpuNanoCores.max / 1e6).toFixed(1)}m`,
        });
      }
    }
  }
  return rows;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : "n/a";
}
