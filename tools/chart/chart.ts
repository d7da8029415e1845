/**
 * Line charts as SVG (and PNG), for the simulator and the load generator.
 *
 * API:
 *   lineChartSvg(spec: LineChartSpec): Promise<string>
 *     One chart of stacked panels sharing the x axis; each panel draws one line per series.
 *     spec.title       chart title
 *     spec.xTitle      x axis title (all panels)
 *     spec.panels[]    { title, yTitle, series: [{ name, points: [{ x, y }] }], step?: boolean }
 *                      step: draw as a staircase (counts that change at instants, e.g. replicas)
 *     spec.width       plot width in px (default 900); spec.panelHeight (default 180)
 *   svgToPng(svg: string, width?: number): Buffer
 *     Renders the SVG with resvg (system fonts), optionally scaled to `width` px.
 *
 * Built on vega-lite (grammar) and vega (headless SVG renderer) rather than hand-written SVG:
 * axes, ticks, legends and colour scales come for free and stay readable for any data range.
 */
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export interface Point {
  x: number;
  y: number;
}
export interface Series {
  name: string;
  points: readonly Point[];
}
export interface Panel {
  title: string;
  yTitle: string;
  series: readonly Series[];
  step?: boolean;
}
export interface LineChartSpec {
  title: string;
  xTitle: string;
  panels: readonly Panel[];
  width?: number;
  panelHeight?: number;
}

/** The vega-lite spec (exported for tests and for callers who want to tweak it). */
export function lineChartVegaLite(spec: LineChartSpec): TopLevelSpec {
  const width = spec.width ?? 900;
  const height = spec.panelHeight ?? 180;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: spec.title,
    background: "white",
    config: { font: "DejaVu Sans", legend: { orient: "right" } },
    vconcat: spec.panels.map((panel) => ({
      title: { text: panel.title, anchor: "start", fontSize: 12 },
      width,
      height,
      data: {
        values: panel.series.flatMap((s) =>
          s.points.map((p) => ({ x: p.x, y: p.y, series: s.name })),
        ),
      },
      mark: { type: "line", interpolate: panel.step ? "step-after" : "linear", strokeWidth: 1.5 },
      encoding: {
        x: { field: "x", type: "quantitative", title: spec.xTitle, scale: { nice: false } },
        y: { field: "y", type: "quantitative", title: panel.yTitle },
        color: {
          field: "series",
          type: "nominal",
          title: null,
          sort: panel.series.map((s) => s.name),
        },
      },
    })),
    resolve: { scale: { color: "independent" } },
  } as TopLevelSpec;
}

export async function lineChartSvg(spec: LineChartSpec): Promise<string> {
  const compiled = compile(lineChartVegaLite(spec)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string, width?: number): Buffer {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    ...(width ? { fitTo: { mode: "width" as const, value: width } } : {}),
  });
  return resvg.render().asPng();
}
