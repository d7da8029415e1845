import { describe, expect, it } from "vitest";
import { appliedElsewhere, notApplied, tookOver } from "../../../../sidecar/policy/handover.ts";
import type { PolicyState } from "../../../../sidecar/policy/index.ts";

const state = (events: [t: number, delta: number][]): PolicyState => ({
  recommendations: [{ t: 0, replicas: 2 }],
  scaleEvents: events.map(([t, delta]) => ({ t, delta })),
});

describe("policy state across a handover", () => {
  it.each([
    {
      name: "drops the change decided now",
      events: [
        [1, 1],
        [5, 2],
      ],
      now: 5,
      left: [[1, 1]],
    },
    { name: "keeps an older change", events: [[1, 1]], now: 5, left: [[1, 1]] },
    { name: "nothing to drop", events: [], now: 5, left: [] },
  ] as { name: string; events: [number, number][]; now: number; left: [number, number][] }[])(
    "notApplied $name",
    ({ events, now, left }) => {
      expect(notApplied(state(events), now).scaleEvents).toEqual(state(left).scaleEvents);
    },
  );

  it("appliedElsewhere counts the leader's step as a scale event, and no change as none", () => {
    expect(appliedElsewhere(state([]), 7, 2).scaleEvents).toEqual([{ t: 7, delta: 2 }]);
    expect(appliedElsewhere(state([]), 7, 0).scaleEvents).toEqual([]);
  });

  it("tookOver adds the current size as a recommendation, leaving the input as it was", () => {
    const before = state([[1, 1]]);
    const after = tookOver(before, 9, 4);
    expect(after.recommendations).toEqual([
      { t: 0, replicas: 2 },
      { t: 9, replicas: 4 },
    ]);
    expect(after.scaleEvents).toEqual(before.scaleEvents);
    expect(before.recommendations).toHaveLength(1);
  });
});
