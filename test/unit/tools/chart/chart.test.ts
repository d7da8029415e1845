import { describe, expect, it } from "vitest";
import { lineChartSvg, lineChartVegaLite, svgToPng } from "../../../../tools/chart/chart.ts";

const spec = {
  title: "demo",
  xTitle: "time (s)",
  panels: [
    {
      title: "Ready replicas",
      yTitle: "replicas",
      step: true,
      series: [
        {
          name: "alpha",
          points: [
            { x: 0, y: 1 },
            { x: 1, y: 3 },
          ],
        },
        {
          name: "beta",
          points: [
            { x: 0, y: 2 },
            { x: 1, y: 2 },
          ],
        },
      ],
    },
    {
      title: "Queue",
      yTitle: "requests",
      series: [
        {
          name: "gamma",
          points: [
            { x: 0, y: 0 },
            { x: 1, y: 5 },
          ],
        },
      ],
    },
  ],
};

describe("chart", () => {
  it("draws one panel per entry, one line per series, staircase where asked", () => {
    const vl = lineChartVegaLite(spec) as { vconcat: { mark: { interpolate: string } }[] };
    expect(vl.vconcat).toHaveLength(2);
    expect(vl.vconcat.map((p) => p.mark.interpolate)).toEqual(["step-after", "linear"]);
  });

  it("renders an SVG with the titles and the series names", async () => {
    const svg = await lineChartSvg(spec);
    expect(svg.startsWith("<svg")).toBe(true);
    for (const text of ["demo", "Ready replicas", "Queue", "alpha", "beta", "gamma", "time (s)"]) {
      expect(svg).toContain(text);
    }
  });

  it("turns the SVG into a PNG of the asked width", async () => {
    const png = svgToPng(await lineChartSvg(spec), 600);
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(png.readUInt32BE(16)).toBe(600); // IHDR width
  });
});
