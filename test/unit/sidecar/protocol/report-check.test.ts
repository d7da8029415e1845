import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Report } from "../../../../sidecar/protocol/report.ts";
import { isPlainReport } from "../../../../sidecar/protocol/report-check.ts";
import { report } from "../controller/fixtures.ts";

// Each field mostly valid (values at the schema's bounds included), sometimes just past a bound
// or of the wrong type, sometimes missing, and now and then a field the schema does not know.
const often = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: bad });
const odd = fc.constantFrom<unknown>(null, true, 0, "1", [], {}, "x");
const label = often(
  fc.constantFrom("default", "a", "a-b", "x".repeat(63)),
  fc.constantFrom("A", "-a", "a.b", "", "x".repeat(64), 7),
);
const subdomain = often(
  fc.constantFrom("w", "worker-1", "a.b", "x".repeat(253)),
  fc.constantFrom("a_b", "a-", "", "x".repeat(254), "é"),
);
const kind = often(
  fc.constantFrom("Deployment", "StatefulSet", "X"),
  fc.constantFrom("deployment", "", "A-B", "X".repeat(64)),
);
const uid = often(
  fc.constantFrom("uid-1", "u".repeat(64), "a b"),
  fc.constantFrom("", "u".repeat(65), 1),
);
const epoch = often(
  fc.integer({ min: 1_799_999_800_000, max: 1_800_000_200_000 }),
  fc.constantFrom(1_577_836_799_999, 4_102_444_800_001, 1_800_000_000_000.5, "1"),
);
const signal = often(
  fc.oneof(
    fc.constantFrom(0, -0, 1e7, 1e9, 3600, 0.5),
    fc.double({ min: 0, max: 3600, noNaN: true }),
  ),
  fc.constantFrom(-1, 1e7 + 1, 1e9 + 1, 3601, "1", null),
);
const signalName = often(
  fc.constantFrom(
    "requestRate",
    "queueLength",
    "inFlight",
    "completionRate",
    "rejectRate",
    "eventLoopLagSeconds",
  ),
  fc.constantFrom("cpu", "toString", "__proto__"),
);
/** Present mostly; dropped now and then (JSON.stringify leaves undefined out). */
const field = <T>(a: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 20, arbitrary: a }, { weight: 1, arbitrary: fc.constant(undefined) });
const candidate = fc
  .record({
    workload: field(often(fc.record({ namespace: label, kind, name: subdomain }), odd)),
    pod: field(often(fc.record({ name: subdomain, uid }), odd)),
    seq: field(
      often(
        fc.constantFrom(0, 1, 7, Number.MAX_SAFE_INTEGER),
        fc.constantFrom(-1, 1.5, Number.MAX_SAFE_INTEGER + 2, "1"),
      ),
    ),
    window: field(often(fc.record({ start: epoch, end: epoch }), odd)),
    app: field(
      often(fc.constantFrom("ready", "notReady", "unreachable"), fc.constantFrom("sleepy", 1)),
    ),
    leaving: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: fc.boolean() },
      { weight: 1, arbitrary: fc.constant("yes") },
    ),
    signals: field(often(fc.dictionary(signalName, signal, { maxKeys: 4 }), odd)),
    extra: fc.oneof(
      { weight: 30, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constant(1) },
    ),
  })
  // As the controller sees it: what JSON carries, parsed back.
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe("the plain report check", () => {
  it("takes only what the schema takes, unchanged", () => {
    let taken = 0;
    let valid = 0;
    fc.assert(
      fc.property(candidate, (v) => {
        const parsed = Report.safeParse(v);
        if (parsed.success) valid++;
        if (!isPlainReport(v)) return;
        taken++;
        expect(parsed.success).toBe(true);
        expect(parsed.data).toStrictEqual(v);
      }),
      { numRuns: 20_000 },
    );
    // Both answers came up often enough for the property to mean something, and the check
    // took every report the schema did (none of these needs the schema's own judgement).
    expect(taken).toBeGreaterThan(200);
    expect(taken).toBe(valid);
  });

  it("takes the reports agents send, so the fast path is the usual one", () => {
    const valid = [
      report(),
      report({ leaving: true }),
      report({ signals: {} }),
      report({ app: "notReady", seq: 0 }),
      report({ signals: { requestRate: 1e7, queueLength: 1e9, eventLoopLagSeconds: 3600 } }),
      report({ window: { start: 1_800_000_000_000, end: 1_800_000_300_000 } }),
    ];
    for (const r of valid) {
      const json = JSON.parse(JSON.stringify(r));
      expect(Report.safeParse(json).success).toBe(true);
      expect(isPlainReport(json)).toBe(true);
    }
  });

  it.each([
    ["an unknown field", { ...report(), cpu: 1 }],
    ["an inherited name as a signal", { ...report(), signals: JSON.parse('{"toString":1}') }],
    [
      "a window over 5 minutes",
      report({ window: { start: 1_800_000_000_000, end: 1_800_000_300_001 } }),
    ],
    ["a seq past the safe integers", report({ seq: Number.MAX_SAFE_INTEGER + 2 })],
    [
      "a bad namespace",
      report({ workload: { namespace: "Not_Valid", kind: "Deployment", name: "w" } }),
    ],
  ])("leaves %s to the schema", (_name, v) => {
    expect(isPlainReport(v)).toBe(false);
    expect(Report.safeParse(v).success).toBe(false);
  });
});
