import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { SeriesHistogram } from "../../../../services/kit/series-histogram.ts";

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SERIES = [
  { method: "GET", route: "/", code: "200" },
  { method: "POST", route: "/orders", code: "202" },
  { method: "GET", route: "unmatched", code: "404" },
];
// Below, on and between the bounds, past the last one, zero.
const VALUES = [0, 0.001, 0.005, 0.0051, 0.01, 0.3, 1, 2.5, 29.9, 30, 31, 1e6];

/** The same observations through prom-client's own Histogram and through SeriesHistogram. */
async function bothExpositions(observations: Array<[number, number]>) {
  const reference = new Registry();
  const theirs = new Histogram({
    name: "h_seconds",
    help: "help text",
    labelNames: ["method", "route", "code"],
    buckets: BUCKETS,
    registers: [reference],
  });
  const registry = new Registry();
  const ours = new SeriesHistogram({
    name: "h_seconds",
    help: "help text",
    buckets: BUCKETS,
    registry,
  });
  const series = SERIES.map((labels) => ours.series(labels));
  for (const [i, value] of observations) {
    theirs.observe(SERIES[i] as (typeof SERIES)[number], value);
    ours.observe(series[i] as (typeof series)[number], value);
  }
  return { ours, expected: await reference.metrics(), actual: await registry.metrics() };
}

describe("SeriesHistogram", () => {
  it.each([
    [
      "one value per series",
      [
        [0, 0.3],
        [1, 0.001],
        [2, 30],
      ],
    ],
    ["every edge value in one series", VALUES.map((v) => [0, v])],
    ["edge values spread over the series", VALUES.map((v, i) => [i % 3, v])],
  ] as Array<[string, Array<[number, number]>]>)(
    "exposes what prom-client's Histogram does: %s",
    async (_name, observations) => {
      const { expected, actual } = await bothExpositions(observations);
      expect(actual).toBe(expected);
    },
  );

  it("reset empties every series, which reappears counting from zero", async () => {
    const { ours } = await bothExpositions([[0, 0.3]]);
    ours.reset();
    expect(ours.get().values).toEqual([]);
    const [series] = SERIES.map((labels) => ours.series(labels));
    if (series) ours.observe(series, 0.3);
    const count = ours.get().values.find((v) => v.metricName === "h_seconds_count");
    expect(count?.value).toBe(1);
  });
});
