import { describe, expect, it } from "vitest";
import { loadRunChart, loadRunPanels } from "../../../../tools/node/load-chart.ts";
import { runFigures } from "../../../../tools/node/load-figures.ts";
import type { Recording } from "../../../../tools/node/load-timeline.ts";

const T0 = Date.parse("2026-12-02T06:00:00Z");
const rec: Recording = {
  startedMs: T0,
  stoppedMs: T0 + 20_000,
  replicas: [
    { atMs: T0, workload: "api", spec: 2, ready: 2 },
    { atMs: T0 + 6_000, workload: "api", spec: 3, ready: 2 },
    { atMs: T0 + 9_000, workload: "api", spec: 3, ready: 3 },
  ],
  pods: [],
  probes: [],
  jobs: {},
  loadLogs: {
    api: [
      `${new Date(T0).toISOString()} load: GET http://api/ spike up to 100/s for 10s (open loop)`,
      "t=0s/10s target=10/s sent=1 2xx=0 429=0 err=0 open=1",
      "t=5s/10s target=100/s sent=250 2xx=240 429=0 err=0 open=10",
    ].join("\n"),
  },
};

describe("the real-node load chart", () => {
  it("draws the spike's target, the answers per second and the replicas from the load's start", () => {
    const panels = loadRunPanels(rec, runFigures(rec, []));
    expect(panels.map((p) => p.title.split(" ")[0])).toEqual(["Load", "api"]);
    const [load, replicas] = panels;
    const target = load?.series.find((s) => s.name === "api target")?.points ?? [];
    expect(target.map((p) => p.y)).toEqual([10, 10, 100, 100, 100, 10, 10, 10, 10, 10, 10]);
    expect(load?.series.find((s) => s.name === "api 2xx/s")?.points).toEqual([{ x: 5, y: 48 }]);
    expect(replicas?.step).toBe(true);
    expect(replicas?.series.find((s) => s.name === "api written")?.points).toEqual([
      { x: 0, y: 2 },
      { x: 6, y: 3 },
      { x: 9, y: 3 },
    ]);
  });

  it("renders as SVG and PNG with the project's chart code", async () => {
    const { svg, png } = await loadRunChart(rec, runFigures(rec, []), "test");
    expect(svg).toContain("<svg");
    expect(svg).toContain("api written");
    expect(png.subarray(1, 4).toString()).toBe("PNG");
  }, 30_000);
});
