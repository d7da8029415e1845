/**
 * The oracle: perfect foresight of the trace, the same model, cold start and SLO. Its
 * replicaSeconds is a proven lower bound: no policy that serves every request (none dropped)
 * within the SLO, in this model at this step, pays fewer replica-seconds, starting replicas
 * included. It also yields a schedule that attains nearly that bound, which the simulator replays
 * (starting each replica one cold start before it is needed) to draw its timeline.
 *
 * "Within the SLO" in a FIFO queue: by the end of each step every request older than the SLO has
 * been served, i.e. for every earlier step a, the capacity of the steps after a covers what
 * arrived after a and is due by now (served work is the least of arrivals up to a plus capacity
 * since a, over all a).
 *
 * The bound, in two steps.
 *
 * 1. A floor on spec.replicas from the future. A replica ready at any moment of [t, t + coldStart]
 *    already exists at t, so spec.replicas(t) is at least the ready replicas at every moment of
 *    that interval, hence at least their average over any window inside it. Over a window, ready
 *    capacity must serve what arrives in the window and falls due (is older than the SLO) before
 *    it ends, since none of that could be served before it arrived. So the largest such window
 *    demand, over the window's capacity per replica and rounded up, is a floor F(t) on
 *    spec.replicas(t) for every policy that meets the SLO. (A fixed set of window lengths is
 *    tried: fewer windows only weaken a floor, never break it.)
 *
 * 2. The cheapest ready capacity given that floor. Each step pays at least max(ready(t), F(t)).
 *    Meeting the SLO means that by the end of each step every request older than the SLO has been
 *    served: a covering constraint on the capacity summed over an interval of steps ending there.
 *    Going through the steps in order, using the capacity the floor pays for anyway, and adding
 *    paid capacity only when a constraint would fail, as late as possible (in the current step),
 *    is optimal for such interval covering: capacity placed later lies in every later interval
 *    that capacity placed earlier does. So Σ max(ready, F) of this greedy schedule is the minimum
 *    of Σ max(ready, F) over all schedules that meet the SLO, which is at most what any of them
 *    pays.
 */
import { ChunkQueue, type ModelOptions, rateAt } from "./model.ts";

export interface OracleSchedule {
  /** ready replicas the greedy uses in each step (warm-up included) */
  needed: Int32Array;
  /** spec.replicas at each step: the most needed within the next cold start */
  spec: Int32Array;
  /** Σ max(needed, floor) × step over t >= 0: no policy meeting the SLO pays fewer replica-seconds */
  lowerBoundReplicaSeconds: number;
  t0: number;
}

interface Grid {
  dt: number;
  dtS: number;
  warmSteps: number;
  steps: number;
  t0: number;
  coldSteps: number;
  perReplica: number;
}

function grid(rps: readonly number[], o: ModelOptions): Grid {
  const dt = o.stepMs;
  const warmSteps = Math.round((o.warmupSeconds * 1000) / dt);
  return {
    dt,
    dtS: dt / 1000,
    warmSteps,
    steps: warmSteps + Math.round((rps.length * 1000) / dt),
    t0: -warmSteps * dt,
    coldSteps: Math.round((o.coldStartSeconds * 1000) / dt),
    perReplica: o.serviceRate * (dt / 1000),
  };
}

/** Step 1: F(i), a floor on spec.replicas in step i for any policy that meets the SLO. */
function futureFloor(
  rps: readonly number[],
  o: ModelOptions,
  g: Grid,
  minReplicas: number,
): Int32Array {
  const sloSteps = Math.ceil(o.sloMs / g.dt);
  const cum = new Float64Array(g.steps + 1);
  for (let j = 0; j < g.steps; j++)
    cum[j + 1] = (cum[j] as number) + rateAt(rps, g.t0 + j * g.dt) * g.dtS;
  const floor = new Int32Array(g.steps).fill(minReplicas);
  const lengths = [1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300]
    .map((s) => sloSteps + s)
    .filter((w) => w <= g.coldSteps + 1);
  const need = new Int32Array(g.steps);
  for (const w of lengths) {
    // window = steps a+1 .. a+w; due within it: what arrived in steps a+1 .. a+w-sloSteps
    for (let a = 0; a + w < g.steps; a++) {
      const due = (cum[a + 1 + w - sloSteps] as number) - (cum[a + 1] as number);
      need[a] = Math.ceil(due / (w * g.perReplica) - 1e-9);
    }
    // spec in step i covers the windows with a + 1 >= i and a + w <= i + coldSteps
    for (let i = 0; i < g.steps; i++) {
      let best = floor[i] as number;
      for (let a = Math.max(0, i - 1); a + w <= i + g.coldSteps && a + w < g.steps; a++) {
        if ((need[a] as number) > best) best = need[a] as number;
      }
      floor[i] = best;
    }
  }
  return floor;
}

export function oracleSchedule(
  rps: readonly number[],
  o: ModelOptions,
  minReplicas = 1,
): OracleSchedule {
  const g = grid(rps, o);
  const floor = futureFloor(rps, o, g, minReplicas);
  // Step 2: the lazy greedy, using what the floor pays for anyway.
  const needed = new Int32Array(g.steps);
  const q = new ChunkQueue();
  let bound = 0;
  for (let i = 0; i < g.steps; i++) {
    const t = g.t0 + i * g.dt;
    q.push(t, rateAt(rps, t) * g.dtS);
    const mustServe = q.olderThan(t + g.dt - o.sloMs);
    const n = Math.max(floor[i] as number, Math.ceil(mustServe / g.perReplica - 1e-9));
    needed[i] = n;
    q.serve(n * g.perReplica);
    if (t >= 0) bound += n * g.dtS;
  }
  const spec = new Int32Array(g.steps);
  for (let i = 0; i < g.steps; i++) {
    let mx = 0;
    for (let k = i; k <= Math.min(g.steps - 1, i + g.coldSteps); k++)
      mx = Math.max(mx, needed[k] as number);
    spec[i] = mx;
  }
  return { needed, spec, lowerBoundReplicaSeconds: Math.round(bound * 10) / 10, t0: g.t0 };
}

/** Replays the schedule: at the end of step i, spec becomes spec[i + 1]. */
export function oracleScaler(s: OracleSchedule, stepMs: number) {
  return (v: { now: number }) => {
    const next = Math.round((v.now - s.t0) / stepMs);
    return next < s.spec.length ? (s.spec[next] as number) : undefined;
  };
}
