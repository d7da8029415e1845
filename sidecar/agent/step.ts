import type { AppState, Report } from "../protocol/report.ts";
import type { SignalName } from "../protocol/signals.ts";
import { type Derived, deriveSignals, prune, type SignalSpecs, type Snapshot } from "./derive.ts";
import {
  DEFAULT_JUMP_RULES,
  findJump,
  type JumpRule,
  type ReportReason,
  reportReason,
} from "./jump.ts";
import type { ScrapeResult } from "./scrape.ts";
import type { Unsequenced } from "./sender.ts";

export interface Identity {
  workload: Report["workload"];
  pod: Report["pod"];
}

export interface StepParams {
  identity: Identity;
  specs: SignalSpecs;
  shortWindowMs: number;
  longWindowMs: number;
  /** Half a scrape interval: see WindowOptions.slackMs. */
  slackMs: number;
  reportIntervalMs: number;
  jumpMinGapMs: number;
  jumpRules?: Partial<Record<SignalName, JumpRule>>;
}

/** What the agent remembers between scrapes. */
export interface AgentState {
  /** Consecutive successful scrapes within the long window; emptied when a scrape fails. */
  history: readonly Snapshot[];
  lastApp: AppState | undefined;
  lastReportAt: number | undefined;
  /** The report this scrape would make, sent or not: the leaving report repeats it. */
  latest: Unsequenced | undefined;
}

export const INITIAL_STATE: AgentState = {
  history: [],
  lastApp: undefined,
  lastReportAt: undefined,
  latest: undefined,
};

export interface StepResult {
  state: AgentState;
  /** Set when this scrape should be reported now. */
  report?: Unsequenced;
  reason?: ReportReason;
  /** The short-window derivation, when the app's metrics were read. */
  derived?: Derived;
  jumped?: SignalName;
}

/**
 * One scrape in, maybe one report out. Pure: the loop around it does the I/O.
 * A failed scrape forgets the history: the app may have restarted, and a rate across an
 * outage would be an average over time nobody observed.
 */
export function step(state: AgentState, scrape: ScrapeResult, p: StepParams): StepResult {
  if (scrape.app === "unreachable") {
    const latest: Unsequenced = {
      ...p.identity,
      window: { start: scrape.at, end: scrape.at },
      app: "unreachable",
      signals: {},
    };
    return withReportIfDue(
      state,
      { ...state, history: [], latest },
      scrape.at,
      "unreachable",
      false,
      p,
    );
  }
  const { snapshot } = scrape;
  const history = prune([...state.history, snapshot], p.longWindowMs + p.slackMs);
  const short = deriveSignals(history, p.specs, {
    windowMs: p.shortWindowMs,
    slackMs: p.slackMs,
    gauge: "last",
  });
  const long = deriveSignals(history, p.specs, {
    windowMs: p.longWindowMs,
    slackMs: p.slackMs,
    gauge: "mean",
  });
  const jumped = findJump(short.signals, long.signals, p.jumpRules ?? DEFAULT_JUMP_RULES);
  const latest: Unsequenced = {
    ...p.identity,
    window: short.window,
    app: scrape.app,
    signals: short.signals,
  };
  const result = withReportIfDue(
    state,
    { ...state, history, latest },
    snapshot.at,
    scrape.app,
    jumped !== undefined,
    p,
  );
  return { ...result, derived: short, ...(jumped ? { jumped } : {}) };
}

/** The next state, with the report when one is due (interval, jump or app-state change). */
function withReportIfDue(
  before: AgentState,
  after: AgentState,
  now: number,
  app: AppState,
  jumped: boolean,
  p: StepParams,
): StepResult {
  const reason = reportReason({
    now,
    lastReportAt: before.lastReportAt,
    intervalMs: p.reportIntervalMs,
    minGapMs: p.jumpMinGapMs,
    jumped,
    appStateChanged: before.lastApp !== undefined && before.lastApp !== app,
  });
  const state: AgentState = {
    ...after,
    lastApp: app,
    lastReportAt: reason ? now : before.lastReportAt,
  };
  return reason && after.latest ? { state, report: after.latest, reason } : { state };
}

/** The last report an agent sends: what it saw last, marked so the controller forgets the pod. */
export function leavingReport(state: AgentState, identity: Identity, now: number): Unsequenced {
  const base: Unsequenced = state.latest ?? {
    ...identity,
    window: { start: now, end: now },
    app: "unreachable",
    signals: {},
  };
  return { ...base, leaving: true };
}
