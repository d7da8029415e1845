import { Signals } from "../protocol/report.ts";
import { SIGNAL_NAMES, type SignalName } from "../protocol/signals.ts";
import type { Exposition, Family, Labels, Series } from "./exposition.ts";
import { matches, type Selector } from "./selector.ts";

/** One successful scrape: when it completed (ms since the epoch) and what it read. */
export interface Snapshot {
  at: number;
  metrics: Exposition;
}

/** For each signal, the selectors it is read from, first present wins; empty: not reported. */
export type SignalSpecs = Readonly<Record<SignalName, readonly Selector[]>>;

export interface WindowOptions {
  /** How far back the window reaches. */
  windowMs: number;
  /**
   * Scrapes are not exactly periodic: a snapshot up to this much older than `windowMs` still
   * counts as inside the window (half a scrape interval keeps a 1 s window from stretching to 2 s
   * when a scrape is a few ms late).
   */
  slackMs: number;
  /** Gauges: "last" reads the newest value (the report), "mean" averages the window (jump baseline). */
  gauge: "last" | "mean";
}

/** Why a signal has no value in this derivation. */
export type Missing = "absent" | "noRateYet" | "invalid";

export interface Derived {
  /** Only the signals that have a valid value: a missing signal is unknown, never zero. */
  signals: Signals;
  /** The span the values cover: from the window's oldest snapshot used to the newest. */
  window: { start: number; end: number };
  /** The selector each reported signal was read from. */
  sources: Partial<Record<SignalName, string>>;
  missing: Partial<Record<SignalName, Missing>>;
}

/**
 * Derives the signals from a run of consecutive successful scrapes (oldest first, newest last).
 * Pure. Rules:
 * - each signal is read from the first of its selectors whose metric has any series in the
 *   newest scrape; the series its label matchers pick are summed (none picked reads 0);
 * - a counter becomes a rate: its increase over the window divided by the seconds between the
 *   two snapshots, summed pair by pair so a reset anywhere inside the window is handled; one
 *   snapshot alone has no rate yet;
 * - a counter that went down, or any counter when `process_start_time_seconds` changed, was
 *   restarted and counts from zero; a series missing from the previous scrape also counts from
 *   zero (client libraries create a labelled series on its first increment);
 * - a gauge is read as it is (or averaged over the window for the jump baseline);
 * - a value the report schema refuses (NaN, negative, absurd) is left out, not clamped.
 */
export function deriveSignals(
  history: readonly Snapshot[],
  specs: SignalSpecs,
  options: WindowOptions,
): Derived {
  const current = history.at(-1);
  if (!current) throw new Error("deriveSignals needs at least one snapshot");
  const from = baselineIndex(history, options);
  const window = {
    start: from === undefined ? current.at : (history[from]?.at ?? current.at),
    end: current.at,
  };
  const signals: Record<string, number> = {};
  const sources: Partial<Record<SignalName, string>> = {};
  const missing: Partial<Record<SignalName, Missing>> = {};

  for (const name of SIGNAL_NAMES) {
    const found = pickSelector(current.metrics, specs[name]);
    if (!found) {
      missing[name] = "absent";
      continue;
    }
    const { selector, family } = found;
    let value: number | undefined;
    if (family.kind === "counter") {
      value = from === undefined ? undefined : counterRate(history, from, selector);
      if (value === undefined) {
        missing[name] = "noRateYet";
        continue;
      }
    } else if (options.gauge === "mean" && from !== undefined) {
      value = gaugeMean(history, from, selector);
    } else {
      value = sum(matching(family, selector));
    }
    if (!Signals.safeParse({ [name]: value }).success) {
      missing[name] = "invalid";
      continue;
    }
    signals[name] = value;
    sources[name] = selector.text;
  }
  return { signals: signals as Signals, window, sources, missing };
}

/** Index of the oldest snapshot inside the window, other than the newest; undefined if none. */
export function baselineIndex(
  history: readonly Snapshot[],
  options: Pick<WindowOptions, "windowMs" | "slackMs">,
): number | undefined {
  const n = history.length;
  const current = history[n - 1];
  if (!current || n < 2) return undefined;
  for (let i = 0; i < n - 1; i++) {
    const s = history[i];
    if (s && current.at - s.at <= options.windowMs + options.slackMs) return i;
  }
  // Every earlier scrape is older than the window (scrapes were slow): use the newest of them.
  return n - 2;
}

/**
 * Drops snapshots older than `keepMs` before the newest, and any stamped after it: the wall
 * clock stepped back (NTP), and kept they would make every window start in the future (a report
 * the controller refuses) until the clock caught up with them, an hour for an hour's step.
 */
export function prune(history: readonly Snapshot[], keepMs: number): Snapshot[] {
  const newest = history.at(-1);
  if (!newest) return [];
  return history.filter((s) => newest.at - s.at <= keepMs && s.at <= newest.at);
}

function pickSelector(
  metrics: Exposition,
  selectors: readonly Selector[],
): { selector: Selector; family: Family } | undefined {
  for (const selector of selectors) {
    const family = metrics.get(selector.metric);
    // Present means the family has any series: a selector whose label matchers pick none of
    // them reads 0 (e.g. no job has failed yet), it does not fall through to the next one.
    if (family && family.kind !== "other" && family.series.length > 0) {
      return { selector, family };
    }
  }
  return undefined;
}

function matching(family: Family, selector: Selector): Series[] {
  return family.series.filter((s) => matches(selector, s.labels));
}

function sum(series: readonly Series[]): number {
  let total = 0;
  for (const s of series) total += s.value;
  return total;
}

function counterRate(
  history: readonly Snapshot[],
  from: number,
  selector: Selector,
): number | undefined {
  const first = history[from];
  const last = history.at(-1);
  if (!first || !last || last.at <= first.at) return undefined;
  let increase = 0;
  for (let k = from + 1; k < history.length; k++) {
    const prev = history[k - 1];
    const cur = history[k];
    if (prev && cur) increase += counterIncrease(prev, cur, selector);
  }
  return increase / ((last.at - first.at) / 1000);
}

function counterIncrease(prev: Snapshot, cur: Snapshot, selector: Selector): number {
  const curFamily = cur.metrics.get(selector.metric);
  if (!curFamily) return 0;
  const restarted = processRestarted(prev.metrics, cur.metrics);
  const before = new Map<string, number>();
  const prevFamily = prev.metrics.get(selector.metric);
  if (prevFamily && !restarted) {
    for (const s of matching(prevFamily, selector)) before.set(labelsKey(s.labels), s.value);
  }
  let increase = 0;
  for (const s of matching(curFamily, selector)) {
    const p = before.get(labelsKey(s.labels));
    increase += p === undefined || s.value < p ? s.value : s.value - p;
  }
  return increase;
}

function gaugeMean(history: readonly Snapshot[], from: number, selector: Selector): number {
  let total = 0;
  let n = 0;
  for (let k = from; k < history.length; k++) {
    const family = history[k]?.metrics.get(selector.metric);
    if (!family) continue;
    if (family.series.length === 0) continue;
    total += sum(matching(family, selector));
    n++;
  }
  return n === 0 ? Number.NaN : total / n;
}

const START_TIME = "process_start_time_seconds";

/** A changed start time means the app restarted between the two scrapes, even if no counter dropped. */
function processRestarted(prev: Exposition, cur: Exposition): boolean {
  const a = prev.get(START_TIME)?.series[0]?.value;
  const b = cur.get(START_TIME)?.series[0]?.value;
  return a !== undefined && b !== undefined && Math.abs(a - b) > 1;
}

function labelsKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
