/** Invariants of decide() over random policies and random load, checked with fast-check. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AggregatedPoint,
  type DecideInput,
  type Decision,
  decide,
  type PolicyState,
  type PrescaleFloor,
} from "../../../../sidecar/policy/index.ts";
import { ScalingPolicySpec } from "../../../../sidecar/protocol/policy.ts";

const policyArb = fc
  .record({
    minReplicas: fc.integer({ min: 1, max: 5 }),
    extra: fc.integer({ min: 0, max: 60 }),
    target: fc.double({ min: 5, max: 200, noNaN: true }),
    windowSeconds: fc.integer({ min: 1, max: 30 }),
    upWindow: fc.integer({ min: 0, max: 60 }),
    downWindow: fc.integer({ min: 0, max: 120 }),
    tolerance: fc.double({ min: 0, max: 0.3, noNaN: true }),
    upSelect: fc.constantFrom("Max", "Min", "Disabled"),
    downSelect: fc.constantFrom("Max", "Min", "Disabled"),
    upPolicy: fc.record({
      type: fc.constantFrom("Pods", "Percent"),
      value: fc.integer({ min: 1, max: 200 }),
      periodSeconds: fc.integer({ min: 1, max: 60 }),
    }),
    downPolicy: fc.record({
      type: fc.constantFrom("Pods", "Percent"),
      value: fc.integer({ min: 1, max: 100 }),
      periodSeconds: fc.integer({ min: 1, max: 60 }),
    }),
    panic: fc.option(
      fc.record({
        windowSeconds: fc.integer({ min: 1, max: 10 }),
        threshold: fc.double({ min: 1, max: 4, noNaN: true }),
        stableWindowSeconds: fc.integer({ min: 1, max: 60 }),
      }),
      { nil: undefined },
    ),
    coldStartSeconds: fc.integer({ min: 1, max: 30 }),
    lookahead: fc.option(fc.record({ windowSeconds: fc.integer({ min: 2, max: 30 }) }), {
      nil: undefined,
    }),
    backlog: fc.option(fc.record({ drainSeconds: fc.integer({ min: 1, max: 60 }) }), {
      nil: undefined,
    }),
    drain: fc.option(fc.record({ queueSeconds: fc.double({ min: 0.01, max: 5, noNaN: true }) }), {
      nil: undefined,
    }),
    weighted: fc.boolean(),
    dryRun: fc.boolean(),
  })
  .map((r) =>
    ScalingPolicySpec.parse({
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "p" },
      minReplicas: r.minReplicas,
      maxReplicas: r.minReplicas + r.extra,
      metrics: [
        { name: "requestRate", averageValue: r.target, weight: 2 },
        { name: "queueLength", averageValue: r.target / 2 },
      ],
      fusion: r.weighted ? "weighted" : "max",
      windowSeconds: r.windowSeconds,
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: r.upWindow,
          tolerance: r.tolerance,
          selectPolicy: r.upSelect,
          policies: [r.upPolicy],
        },
        scaleDown: {
          stabilizationWindowSeconds: r.downWindow,
          tolerance: r.tolerance,
          selectPolicy: r.downSelect,
          policies: [r.downPolicy],
        },
      },
      panic: r.panic,
      lookahead: r.lookahead,
      drain: r.drain,
      coldStartSeconds: r.coldStartSeconds,
      backlog: r.backlog,
      mode: r.dryRun ? "dryRun" : "enforce",
    }),
  );

const stepArb = fc.record({
  dt: fc.integer({ min: 100, max: 3000 }),
  /** load relative to the run's scale */
  load: fc.double({ min: 0, max: 3, noNaN: true }),
  queue: fc.double({ min: 0, max: 1, noNaN: true }),
  reportingShare: fc.double({ min: 0.3, max: 1, noNaN: true }),
  /** about one step in eight has no report */
  silent: fc.integer({ min: 0, max: 7 }),
  /** about one step in twenty sets a floor */
  floorRoll: fc.integer({ min: 0, max: 19 }),
  floor: fc.integer({ min: 0, max: 100 }),
});

type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

interface Check {
  input: DecideInput;
  decision: Decision;
  recs: { t: number; replicas: number }[];
}

/** Drive decide() the way the controller does: each decision is applied, one step later it is ready. */
function drive(
  policy: ScalingPolicySpec,
  scale: number,
  start: number,
  steps: Step[],
  onStep: (c: Check) => void,
) {
  let now = 1_700_000_000_000;
  let current = start;
  let ready = start;
  let state: PolicyState | undefined;
  const history: AggregatedPoint[] = [];
  const floors: PrescaleFloor[] = [];
  const recs = [{ t: now, replicas: start }];
  for (const s of steps) {
    now += s.dt;
    const pods = Math.round(ready * s.reportingShare);
    if (s.silent > 0) {
      const perPod = ready > 0 ? 1 / ready : 0;
      history.push({
        t: now,
        pods,
        ready,
        signals: {
          requestRate: s.load * scale * perPod * pods,
          queueLength: s.queue * scale * perPod * pods,
          completionRate: 10 * pods,
        },
      });
    }
    if (s.floorRoll === 0)
      floors.push({ replicas: s.floor, expiresAt: now + 5000, reason: "test" });
    const input: DecideInput = {
      policy,
      history: [...history],
      currentReplicas: current,
      readyReplicas: ready,
      floors: [...floors],
      now,
    };
    if (state) input.state = state;
    const decision = decide(input);
    if (decision.recommendation !== undefined)
      recs.push({ t: now, replicas: decision.recommendation });
    onStep({ input, decision, recs });
    state = decision.state;
    ready = current;
    if (!decision.dryRun) current = decision.desiredReplicas;
  }
}

const runArb = fc.tuple(
  policyArb,
  fc.integer({ min: 1, max: 80 }),
  fc.array(stepArb, { minLength: 1, maxLength: 60 }),
  fc.double({ min: 1, max: 5000, noNaN: true }),
);
const startIn = (p: ScalingPolicySpec, k: number) =>
  p.minReplicas + (k % (p.maxReplicas - p.minReplicas + 1));

describe("decide() invariants", () => {
  it("stays within [minReplicas, maxReplicas]", () => {
    fc.assert(
      fc.property(runArb, ([policy, k, steps, scale]) => {
        drive(policy, scale, startIn(policy, k), steps, ({ decision }) => {
          expect(decision.desiredReplicas).toBeGreaterThanOrEqual(policy.minReplicas);
          expect(decision.desiredReplicas).toBeLessThanOrEqual(policy.maxReplicas);
          expect(Number.isInteger(decision.desiredReplicas)).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("makes no scale-down during panic", () => {
    fc.assert(
      fc.property(runArb, ([policy, k, steps, scale]) => {
        drive(policy, scale, startIn(policy, k), steps, ({ input, decision }) => {
          if (decision.panic)
            expect(decision.desiredReplicas).toBeGreaterThanOrEqual(input.currentReplicas);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("never violates the stabilization windows", () => {
    fc.assert(
      fc.property(runArb, ([policy, k, steps, scale]) => {
        const down = policy.behavior.scaleDown.stabilizationWindowSeconds * 1000;
        const up = policy.behavior.scaleUp.stabilizationWindowSeconds * 1000;
        drive(policy, scale, startIn(policy, k), steps, ({ input, decision, recs }) => {
          const { now, currentReplicas: current } = input;
          const d = decision.desiredReplicas;
          const inDown = recs.filter((r) => r.t > now - down || r.t === now).map((r) => r.replicas);
          const inUp = recs
            .filter((r) => r.t > now - up || r.t === now)
            // The backlog rule's extra is not recorded as a recommendation (decide.ts, 3b), so
            // this step's own recommendation does not bound it (even when maxReplicas or a rate
            // policy then sets the final number): only the earlier ones in the window do.
            .filter((r) => !(r.t === now && policy.backlog))
            .map((r) => r.replicas);
          // scale-down: not below the highest recommendation in the window (nor below min)
          if (d < current)
            expect(d).toBeGreaterThanOrEqual(
              Math.min(current, Math.max(policy.minReplicas, ...inDown)),
            );
          // scale-up without panic or floor: not above the lowest recommendation in the window
          if (d > current && !decision.panic && decision.limitedBy !== "floor") {
            expect(d).toBeLessThanOrEqual(Math.max(current, Math.min(...inUp)));
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it("names its stages in the documented order, each handing its size on to the next", () => {
    const order = ["bounds", "recommend", "backlog", "stabilize", "panic", "rateLimit", "floors"];
    fc.assert(
      fc.property(runArb, ([policy, k, steps, scale]) => {
        drive(policy, scale, startIn(policy, k), steps, ({ decision }) => {
          const names = decision.stages.map((s) => s.stage);
          const at = names.map((n) => order.indexOf(n));
          expect(at).toEqual([...at].sort((a, b) => a - b));
          expect(new Set(names).size).toBe(names.length);
          // panic or rate limit: both only when panic is configured and not panicking now
          if (decision.panic) expect(names).not.toContain("rateLimit");
          expect(decision.stages.at(-1)?.replicas).toBe(decision.desiredReplicas);
          // the decision's limitedBy is the last stage's that limited
          const limited = decision.stages.filter((s) => s.limitedBy).at(-1);
          expect(limited?.limitedBy).toBe(decision.limitedBy);
          for (const s of decision.stages) expect(s.note.length).toBeGreaterThan(0);
          expect(JSON.parse(JSON.stringify(decision.stages))).toEqual(decision.stages);
        });
      }),
      { numRuns: 200 },
    );
  });

  it("is deterministic and does not touch its input", () => {
    fc.assert(
      fc.property(runArb, ([policy, k, steps, scale]) => {
        drive(policy, scale, startIn(policy, k), steps, ({ input, decision }) => {
          const before = JSON.stringify(input);
          const again = decide(structuredClone(input));
          expect(again).toEqual(decision);
          expect(JSON.stringify(input)).toBe(before);
          // the state survives a JSON round trip unchanged
          expect(JSON.parse(JSON.stringify(decision.state))).toEqual(decision.state);
        });
      }),
      { numRuns: 100 },
    );
  });
});
