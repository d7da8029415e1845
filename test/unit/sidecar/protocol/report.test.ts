import { describe, expect, it } from "vitest";
import { describeIssues, Report } from "../../../../sidecar/protocol/report.ts";
import { report } from "../controller/fixtures.ts";

describe("Report schema", () => {
  it("accepts a valid report", () => {
    expect(Report.safeParse(report()).success).toBe(true);
  });

  it.each([
    {
      name: "NaN signal",
      patch: { signals: { requestRate: Number.NaN } },
      field: "signals.requestRate",
    },
    {
      name: "infinite signal",
      patch: { signals: { queueLength: Number.POSITIVE_INFINITY } },
      field: "signals.queueLength",
    },
    { name: "negative signal", patch: { signals: { inFlight: -1 } }, field: "signals.inFlight" },
    {
      name: "absurd rate",
      patch: { signals: { requestRate: 1e12 } },
      field: "signals.requestRate",
    },
    { name: "unknown signal", patch: { signals: { cpu: 1 } }, field: "signals" },
    { name: "unknown field", patch: { extra: true }, field: "(body)" },
    {
      name: "bad namespace",
      patch: { workload: { namespace: "Not_Valid", kind: "Deployment", name: "w" } },
      field: "workload.namespace",
    },
    { name: "fractional seq", patch: { seq: 1.5 }, field: "seq" },
    {
      name: "window reversed",
      patch: { window: { start: 1_800_000_000_000, end: 1_700_000_000_000 } },
      field: "window",
    },
    { name: "bad app state", patch: { app: "sleepy" }, field: "app" },
  ])("refuses $name, naming $field", ({ patch, field }) => {
    const result = Report.safeParse({ ...report(), ...patch });
    expect(result.success).toBe(false);
    if (!result.success) expect(describeIssues(result.error).join("\n")).toContain(`${field}:`);
  });
});
