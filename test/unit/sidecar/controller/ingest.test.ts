import { describe, expect, it } from "vitest";
import { checkReport } from "../../../../sidecar/controller/ingest.ts";
import { report, T0 } from "./fixtures.ts";

const limits = { maxAgeMs: 30_000, maxSkewMs: 5_000 };
const prev = {
  report: report({ seq: 10, window: { start: T0 - 2000, end: T0 - 1000 } }),
  receivedAt: T0 - 1000,
};

describe("checkReport", () => {
  it.each([
    { name: "first report of a pod", r: report(), previous: undefined, status: undefined },
    { name: "next seq, newer window", r: report({ seq: 11 }), previous: prev, status: undefined },
    {
      name: "agent restarted: low seq, newer window",
      r: report({ seq: 0 }),
      previous: prev,
      status: undefined,
    },
    {
      name: "replay of the same report",
      r: prev.report,
      previous: prev,
      status: 409,
    },
    {
      name: "older seq and older window",
      r: report({ seq: 9, window: { start: T0 - 3000, end: T0 - 2000 } }),
      previous: prev,
      status: 409,
    },
    {
      name: "higher seq but window ends before the last one",
      r: report({ seq: 12, window: { start: T0 - 3000, end: T0 - 1500 } }),
      previous: prev,
      status: 409,
    },
    {
      name: "stale",
      r: report({ window: { start: T0 - 40_000, end: T0 - 31_000 } }),
      previous: undefined,
      status: 422,
    },
    {
      name: "from the future",
      r: report({ window: { start: T0, end: T0 + 6000 } }),
      previous: undefined,
      status: 422,
    },
  ])("$name", ({ r, previous, status }) => {
    const v = checkReport(r, previous, T0, limits);
    expect(v.ok ? undefined : v.status).toBe(status);
  });
});
