/** The backlog rule: capacity to drain a queue, and the per-pod service rate it is sized with. */

import { fmt } from "./format.ts";
import { forecast, lookaheadSeconds } from "./lookahead.ts";
import { toleranceText, withTolerance } from "./recommend.ts";
import { totals } from "./series.ts";
import type {
  AggregatedPoint,
  DecideInput,
  PolicyState,
  ScaleEvent,
  ServiceRate,
  StageOutcome,
} from "./types.ts";

/** Window the backlog rule reads arrivals and completions over. */
export const BACKLOG_RATE_WINDOW_MS = 5_000;
/** A queue shorter than this much work is noise, not a backlog (pods are not saturated). */
const BACKLOG_MIN_DELAY_S = 0.1;

/** A service rate measured while saturated is trusted this long when pods are not saturated now. */
const SERVICE_RATE_MEMORY_MS = 600_000;

/**
 * Requests one pod completes per second. Only an interval with a queue at both its ends shows it
 * (pods saturated throughout); such a measure replaces what was remembered, even when lower (the
 * app may have slowed down). Otherwise the window's average completion rate per pod, a floor,
 * is raised to the remembered rate: the first second of a surge is only partly saturated and
 * would overstate how many replicas the queue needs. With neither a saturated measure nor a
 * remembered one there is no service rate: pods that were never saturated complete what arrives,
 * which says nothing of what they could complete (seen live: 1.5/s read as the capacity of a
 * worker that serves 20/s, asking for 27 replicas for one queued job).
 */
function serviceRate(
  history: readonly AggregatedPoint[],
  from: number,
  now: number,
  remembered: ServiceRate | undefined,
): { perPod: number; measured?: ServiceRate } | undefined {
  let sum = 0;
  let n = 0;
  let satSum = 0;
  let satN = 0;
  let prevQueued = false;
  for (const p of history) {
    const queued = (p.signals.queueLength ?? 0) > 0;
    const c = p.signals.completionRate;
    if (p.t > from && p.t <= now && p.pods > 0 && c !== undefined) {
      sum += c / p.pods;
      n++;
      if (queued && prevQueued) {
        satSum += c / p.pods;
        satN++;
      }
    }
    prevQueued = queued;
  }
  if (satN > 0 && satSum > 0) {
    const measured = { perPod: satSum / satN, t: now };
    return { perPod: measured.perPod, measured };
  }
  const recent = remembered && now - remembered.t <= SERVICE_RATE_MEMORY_MS ? remembered.perPod : 0;
  if (recent <= 0) return undefined;
  return { perPod: Math.max(n > 0 ? sum / n : 0, recent) };
}

/**
 * Backlog rule: enough replicas to keep serving arrivals and drain the queue within
 * `drainSeconds` of new capacity landing, at the per-pod service rate measured from completions
 * while pods are saturated. New capacity lands one cold start from now; until then the queue keeps
 * growing at (arrivals - ready capacity), less what replicas already starting will serve once
 * ready (expected one cold start after the last scale-up). Sizing on the projected queue asks for
 * the right amount once, instead of a little more every second while the queue grows; and there
 * is no scale-down while a backlog is draining.
 */
export function backlogReplicas(
  input: DecideInput,
  ready: number,
  events: readonly ScaleEvent[],
  remembered: ServiceRate | undefined,
): { raw: number; text: string; measured?: ServiceRate } | undefined {
  const { policy, history, now } = input;
  if (!policy.backlog) return undefined;
  const from = now - BACKLOG_RATE_WINDOW_MS;
  // What is known: a pod that did not report adds nothing to the backlog (HPA: missing pods
  // count as 0 when scaling up, and this rule only ever adds).
  const queue = totals(history, "queueLength", ready, 0).at(-1);
  if (!queue || queue.t <= from || queue.v <= 0) return undefined;
  // Arrivals now (the newest report's rate), not a window average.
  const rates = totals(history, "requestRate", ready, 0);
  const newest = rates.at(-1);
  if (!newest || newest.t <= from) return undefined;
  const arrivingNow = newest.v;
  let arrivals = arrivingNow;
  // With lookahead, serve the arrivals expected when new capacity lands.
  let rising = "";
  const la = policy.lookahead;
  if (la) {
    const f = forecast(rates, now, la.windowSeconds * 1000, lookaheadSeconds(policy));
    if (f && f.value > arrivals) {
      arrivals = Math.min(f.value, arrivals * la.maxFactor);
      rising = ` (forecast in ${lookaheadSeconds(policy)}s)`;
    }
  }
  const rate = serviceRate(history, from, now, remembered);
  if (!rate) return undefined;
  const perPod = rate.perPod;
  if (queue.v / (perPod * Math.max(queue.pods, 1)) < BACKLOG_MIN_DELAY_S) return undefined;

  const cold = policy.coldStartSeconds;
  const pending = Math.max(0, input.currentReplicas - ready);
  let lastUp: number | undefined;
  for (const e of events) if (e.delta > 0 && (lastUp === undefined || e.t > lastUp)) lastUp = e.t;
  const pendingIn =
    pending === 0 ? cold : Math.min(cold, Math.max(0, ((lastUp ?? now) - now) / 1000 + cold));
  const atLanding = Math.max(
    0,
    queue.v +
      (arrivingNow - ready * perPod) * pendingIn +
      (arrivingNow - (ready + pending) * perPod) * (cold - pendingIn),
  );
  const drain = policy.backlog.drainSeconds;
  // New capacity drains the queue expected when it lands; the replicas already here stay until
  // the present queue has drained (a drop half way would stretch the drain, and the delay, out).
  const raw = Math.max((arrivals + atLanding / drain) / perPod, input.currentReplicas);
  return {
    raw,
    ...(rate.measured ? { measured: rate.measured } : {}),
    text: `backlog ${fmt(queue.v)} queued (${fmt(atLanding)} expected in ${cold}s) + ${fmt(arrivals)}/s arriving${rising}, drained in ${drain}s at ${fmt(perPod)}/s per pod = ${fmt(raw)}, no scale-down until drained`,
  };
}

/**
 * The backlog stage: the recommendation, raised while a queue drains. Its extra is not demand:
 * decide() does not record it for the stabilization windows, and panic does not hold it.
 */
export function backlogStage(
  input: DecideInput,
  ready: number,
  recommended: number,
  state: PolicyState,
): StageOutcome {
  const current = input.currentReplicas;
  if (!input.policy.backlog)
    return { replicas: recommended, notes: [], idle: "off in this policy" };
  const backlog = backlogReplicas(input, ready, state.scaleEvents, state.serviceRate);
  if (!backlog) return { replicas: recommended, notes: [], idle: "no backlog to drain" };
  if (backlog.measured) state.serviceRate = backlog.measured;
  const t = withTolerance(backlog.raw, current, input.policy);
  const notes = [`${backlog.text} → ${toleranceText(t, current)}`];
  return t.replicas > recommended
    ? { replicas: t.replicas, limitedBy: "backlog", notes }
    : { replicas: recommended, notes };
}
