import { describe, expect, it } from "vitest";
import { backoffDelay, parseRetryAfter } from "../../../../sidecar/agent/backoff.ts";
import { findJump, reportReason } from "../../../../sidecar/agent/jump.ts";

describe("findJump", () => {
  it.each([
    { name: "steady", short: { requestRate: 100 }, long: { requestRate: 95 }, want: undefined },
    {
      name: "step up",
      short: { requestRate: 200 },
      long: { requestRate: 100 },
      want: "requestRate",
    },
    {
      name: "step down",
      short: { requestRate: 40 },
      long: { requestRate: 100 },
      want: "requestRate",
    },
    {
      name: "small numbers are noise (under the floor)",
      short: { requestRate: 4 },
      long: { requestRate: 1 },
      want: undefined,
    },
    {
      name: "from idle",
      short: { requestRate: 50 },
      long: { requestRate: 0 },
      want: "requestRate",
    },
    {
      name: "queue grows",
      short: { queueLength: 40 },
      long: { queueLength: 10 },
      want: "queueLength",
    },
    {
      name: "completions are not watched",
      short: { completionRate: 500 },
      long: { completionRate: 1 },
      want: undefined,
    },
    {
      name: "unknown in one window: no jump",
      short: { requestRate: 500 },
      long: {},
      want: undefined,
    },
  ])("$name", ({ short, long, want }) => {
    expect(findJump(short, long)).toBe(want);
  });
});

describe("reportReason", () => {
  const base = {
    now: 10_000,
    intervalMs: 1000,
    minGapMs: 250,
    jumped: false,
    appStateChanged: false,
  };
  it.each([
    { name: "first report at once", t: { ...base, lastReportAt: undefined }, want: "first" },
    { name: "interval passed", t: { ...base, lastReportAt: 9000 }, want: "interval" },
    {
      name: "a scrape a little early still reports",
      t: { ...base, lastReportAt: 9050 },
      want: "interval",
    },
    { name: "too soon, nothing new", t: { ...base, lastReportAt: 9500 }, want: undefined },
    {
      name: "the wall clock stepped back past the last report: report, do not wait for it",
      t: { ...base, lastReportAt: 10_000 + 3_600_000 },
      want: "interval",
    },
    { name: "jump reports early", t: { ...base, lastReportAt: 9500, jumped: true }, want: "jump" },
    {
      name: "jump inside the min gap waits",
      t: { ...base, lastReportAt: 9900, jumped: true },
      want: undefined,
    },
    {
      name: "app state change reports early",
      t: { ...base, lastReportAt: 9500, appStateChanged: true },
      want: "appState",
    },
  ])("$name", ({ t, want }) => {
    expect(reportReason(t)).toBe(want);
  });
});

describe("backoff", () => {
  const opts = { baseMs: 100, maxMs: 5000 };
  it.each([
    { attempt: 0, random: 0.999, max: 100 },
    { attempt: 1, random: 0.999, max: 200 },
    { attempt: 3, random: 0.999, max: 800 },
    { attempt: 10, random: 0.999, max: 5000 },
    { attempt: 1000, random: 0.999, max: 5000 },
  ])("attempt $attempt stays within [0, $max]", ({ attempt, random, max }) => {
    const d = backoffDelay(attempt, random, opts);
    expect(d).toBeLessThanOrEqual(max);
    expect(d).toBeGreaterThan(max * 0.99);
    expect(backoffDelay(attempt, 0, opts)).toBe(0);
  });

  it.each([
    { header: null, want: undefined },
    { header: "3", want: 3000 },
    { header: "soon", want: undefined },
    { header: new Date(1_800_000_002_000).toUTCString(), want: 2000 },
  ])("Retry-After $header", ({ header, want }) => {
    expect(parseRetryAfter(header, 1_800_000_000_000)).toBe(want);
  });
});
