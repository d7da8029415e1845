import { describe, expect, it } from "vitest";
import {
  baselineIndex,
  deriveSignals,
  prune,
  type SignalSpecs,
  type Snapshot,
} from "../../../../sidecar/agent/derive.ts";
import { parseExposition } from "../../../../sidecar/agent/exposition.ts";
import { parseSelectors, type Selector } from "../../../../sidecar/agent/selector.ts";

const T0 = 1_800_000_000_000;

function sel(text: string): Selector[] {
  const parsed = parseSelectors(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

/** Only requestRate and queueLength read something; the rest are "none". */
function specs(requestRate: string, queueLength = "none"): SignalSpecs {
  return {
    requestRate: sel(requestRate),
    queueLength: sel(queueLength),
    inFlight: [],
    completionRate: [],
    rejectRate: [],
    eventLoopLagSeconds: [],
  };
}

function snap(atSeconds: number, text: string): Snapshot {
  return { at: T0 + atSeconds * 1000, metrics: parseExposition(text) };
}

const jobs = (accepted: number, rejected: number, completed = 0, start = 1000) => `
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds ${start}
# HELP work_jobs_total Jobs by outcome.
# TYPE work_jobs_total counter
work_jobs_total{outcome="accepted"} ${accepted}
work_jobs_total{outcome="rejected"} ${rejected}
work_jobs_total{outcome="completed"} ${completed}
`;

const SHORT = { windowMs: 1000, slackMs: 500, gauge: "last" } as const;
const ARRIVALS = 'work_jobs_total{outcome=~"accepted|rejected"}';

describe("deriveSignals: counters become rates", () => {
  it.each([
    {
      name: "first scrape has no rate yet",
      history: [snap(0, jobs(10, 0))],
      want: undefined,
      missing: "noRateYet",
    },
    {
      name: "labels the matchers pick are summed (accepted + rejected, not completed)",
      history: [snap(0, jobs(10, 0, 5)), snap(1, jobs(30, 5, 100))],
      want: 25,
    },
    {
      name: "rate divides by the real time between scrapes",
      history: [snap(0, jobs(0, 0)), snap(2, jobs(40, 0))],
      want: 20,
    },
    {
      name: "a counter that dropped was reset: counts from zero, never negative",
      history: [snap(0, jobs(5000, 100)), snap(1, jobs(7, 1))],
      want: 8,
    },
    {
      name: "a changed process start time is a restart even when the counter did not drop",
      history: [snap(0, jobs(5, 0, 0, 1000)), snap(1, jobs(9, 0, 0, 2000))],
      want: 9,
    },
    {
      name: "a series that appears counts from zero (created on first increment)",
      history: [
        snap(0, '# TYPE work_jobs_total counter\nwork_jobs_total{outcome="accepted"} 4\n'),
        snap(
          1,
          '# TYPE work_jobs_total counter\nwork_jobs_total{outcome="accepted"} 6\nwork_jobs_total{outcome="rejected"} 3\n',
        ),
      ],
      want: 5,
    },
    {
      name: "a reset inside the window is handled pair by pair",
      history: [snap(0, jobs(100, 0)), snap(0.5, jobs(110, 0)), snap(1, jobs(4, 0))],
      want: 14,
    },
    {
      name: "the window starts at the oldest scrape inside it, not at the oldest kept",
      history: [snap(0, jobs(0, 0)), snap(5, jobs(500, 0)), snap(6, jobs(510, 0))],
      want: 10,
    },
  ])("$name", ({ history, want, missing }) => {
    const d = deriveSignals(history, specs(ARRIVALS), SHORT);
    expect(d.signals.requestRate).toBe(want);
    if (want === undefined) expect(d.missing.requestRate).toBe(missing);
    else expect(d.sources.requestRate).toBe(ARRIVALS);
  });
});

describe("deriveSignals: gauges and selection", () => {
  const gauges = (rps: number, queue: number) => `
# TYPE http_requests_per_second gauge
http_requests_per_second ${rps}
# TYPE work_queue_length gauge
work_queue_length ${queue}
`;

  it.each([
    {
      name: "a gauge is read as it is, even on the first scrape",
      rr: "http_requests_per_second",
      history: [snap(0, gauges(42.5, 3))],
      want: { requestRate: 42.5, queueLength: 3 },
    },
    {
      name: "the first selector whose metric is exported wins",
      rr: `${ARRIVALS} or http_requests_per_second`,
      history: [snap(0, gauges(7, 0) + jobs(0, 0)), snap(1, gauges(7, 0) + jobs(3, 0))],
      want: { requestRate: 3, queueLength: 0 },
    },
    {
      name: "falls through to the next selector when the first metric is not exported",
      rr: `${ARRIVALS} or http_requests_per_second`,
      history: [snap(0, gauges(7, 1))],
      want: { requestRate: 7, queueLength: 1 },
    },
    {
      name: "an exported family whose series the matchers skip reads 0, no fall-through",
      rr: 'work_jobs_total{outcome="failed"} or http_requests_per_second',
      history: [snap(0, gauges(7, 1) + jobs(1, 1)), snap(1, gauges(7, 1) + jobs(9, 9))],
      want: { requestRate: 0, queueLength: 1 },
    },
    {
      name: "a metric the app does not export is missing, not zero",
      rr: "no_such_metric",
      history: [snap(0, gauges(7, 1))],
      want: { queueLength: 1 },
    },
    {
      name: "labelled gauges are summed",
      rr: "inflight",
      history: [snap(0, '# TYPE inflight gauge\ninflight{route="/a"} 2\ninflight{route="/b"} 3\n')],
      want: { requestRate: 5 },
    },
    {
      name: "untyped _total is a counter",
      rr: "reqs_total",
      history: [snap(0, "reqs_total 10\n"), snap(1, "reqs_total 14\n")],
      want: { requestRate: 4 },
    },
    {
      name: "a value the report schema refuses (negative gauge) is left out",
      rr: "http_requests_per_second",
      history: [snap(0, gauges(-1, 2))],
      want: { queueLength: 2 },
    },
    {
      name: "NaN is left out",
      rr: "http_requests_per_second",
      history: [snap(0, gauges(Number.NaN, 2))],
      want: { queueLength: 2 },
    },
    {
      name: "histograms are not read as a signal",
      rr: "lat",
      history: [snap(0, '# TYPE lat histogram\nlat_bucket{le="+Inf"} 1\nlat_sum 1\nlat_count 1\n')],
      want: {},
    },
  ])("$name", ({ rr, history, want }) => {
    const d = deriveSignals(history, specs(rr, "work_queue_length"), SHORT);
    expect(d.signals).toEqual(want);
  });

  it("mean gauges average the window (the jump baseline)", () => {
    const history = [snap(0, gauges(10, 0)), snap(1, gauges(20, 0)), snap(2, gauges(60, 0))];
    const d = deriveSignals(history, specs("http_requests_per_second"), {
      windowMs: 10_000,
      slackMs: 500,
      gauge: "mean",
    });
    expect(d.signals.requestRate).toBe(30);
    expect(d.window).toEqual({ start: T0, end: T0 + 2000 });
  });

  it("the window of a first scrape is that instant", () => {
    const d = deriveSignals([snap(3, gauges(1, 1))], specs("http_requests_per_second"), SHORT);
    expect(d.window).toEqual({ start: T0 + 3000, end: T0 + 3000 });
  });
});

describe("windows", () => {
  const at = (...seconds: number[]) => seconds.map((s) => snap(s, ""));
  it.each([
    { name: "one snapshot: none", history: at(0), slackMs: 500, want: undefined },
    { name: "two, 1 s apart", history: at(0, 1), slackMs: 500, want: 0 },
    {
      name: "a late scrape does not stretch 1 s to 2 s",
      history: at(0, 1.003, 2.001),
      slackMs: 500,
      want: 1,
    },
    { name: "slow scrapes: the newest older one", history: at(0, 5, 10), slackMs: 500, want: 1 },
    {
      name: "250 ms scrapes: the one 1 s back",
      history: at(0, 0.25, 0.5, 0.75, 1, 1.25),
      slackMs: 125,
      want: 1,
    },
  ])("$name", ({ history, slackMs, want }) => {
    expect(baselineIndex(history, { windowMs: 1000, slackMs })).toBe(want);
  });

  it("prune keeps what the long window needs", () => {
    expect(prune(at(0, 5, 9, 10, 11), 6000).map((s) => s.at - T0)).toEqual([
      5000, 9000, 10000, 11000,
    ]);
  });

  it("prune drops snapshots stamped after the newest: the wall clock stepped back", () => {
    // Scrapes at 10 s and 11 s, then the clock steps back an hour: only the newest is left.
    expect(prune(at(10, 11, 11 - 3600), 6000).map((s) => s.at - T0)).toEqual([(11 - 3600) * 1000]);
  });
});
