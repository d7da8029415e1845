import type { Signals } from "../protocol/report.ts";
import type { SignalName } from "../protocol/signals.ts";

/** A signal jumps when its short-window value is this far from its long-window value. */
export interface JumpRule {
  /** Fraction of the long-window value, e.g. 0.5: 50 % up or down. */
  relative: number;
  /** And at least this much in the signal's unit, so noise around small values is no jump. */
  floor: number;
}

/** Only the signals a policy sizes on; completions follow arrivals and need no early report. */
export const DEFAULT_JUMP_RULES: Partial<Record<SignalName, JumpRule>> = {
  requestRate: { relative: 0.5, floor: 5 },
  rejectRate: { relative: 0.5, floor: 5 },
  queueLength: { relative: 0.5, floor: 10 },
  inFlight: { relative: 0.5, floor: 5 },
  eventLoopLagSeconds: { relative: 1, floor: 0.1 },
};

/** The first signal that jumped, or undefined. Pure. */
export function findJump(
  short: Signals,
  long: Signals,
  rules: Partial<Record<SignalName, JumpRule>> = DEFAULT_JUMP_RULES,
): SignalName | undefined {
  for (const [name, rule] of Object.entries(rules) as [SignalName, JumpRule][]) {
    const s = short[name];
    const l = long[name];
    if (s === undefined || l === undefined) continue;
    if (Math.abs(s - l) >= Math.max(rule.floor, rule.relative * l)) return name;
  }
  return undefined;
}

export type ReportReason = "first" | "interval" | "jump" | "appState";

export interface ReportTiming {
  now: number;
  /** When the last report was handed to the sender; undefined before the first. */
  lastReportAt: number | undefined;
  intervalMs: number;
  /** Early reports (jump, app state change) come no closer together than this. */
  minGapMs: number;
  jumped: boolean;
  appStateChanged: boolean;
}

/** Whether to report after this scrape, and why. Pure. */
export function reportReason(t: ReportTiming): ReportReason | undefined {
  if (t.lastReportAt === undefined) return "first";
  const since = t.now - t.lastReportAt;
  // The wall clock stepped back: waiting for it to pass the last report again would silence
  // the agent for as long as the step (an hour for an hour).
  if (since < 0) return "interval";
  // A little early still counts as on time, or a report interval equal to the scrape interval
  // would skip every other scrape when one runs a millisecond fast.
  if (since >= t.intervalMs * 0.9) return "interval";
  if (since < t.minGapMs) return undefined;
  if (t.appStateChanged) return "appState";
  if (t.jumped) return "jump";
  return undefined;
}
