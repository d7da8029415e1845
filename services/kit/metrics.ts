import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { type HistogramSeries, SeriesHistogram } from "./series-histogram.ts";

export { Registry } from "prom-client";

const GAUGES_NAMED_TOTAL = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/**
 * A fresh registry per program (no hidden global), with prom-client's default process_* and
 * nodejs_* metrics (CPU, memory, event-loop lag, GC) unless turned off.
 */
export function createRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // Gauges named *_total break the Prometheus naming rules (promtool flags them); the same
    // counts are in nodejs_active_handles / _requests / _resources, by type.
    for (const name of GAUGES_NAMED_TOTAL) registry.removeSingleMetric(name);
  }
  return registry;
}

export interface ArrivalRateOptions {
  /** Length of the sliding window. */
  windowMs?: number;
  /** Resolution: the window is a ring of buckets this long. */
  bucketMs?: number;
  now?: () => number;
}

/**
 * Events per second over a short sliding window, from a ring of counting buckets: O(1) to
 * record, O(buckets) to read. Counts arrivals, not completions, so a saturated replica still
 * shows how much demand reaches it. Until a whole window has passed since creation it divides
 * by the time elapsed (at least one bucket), so a fresh replica reports its rate at once
 * instead of ramping up.
 */
export class ArrivalRate {
  readonly windowMs: number;
  readonly bucketMs: number;
  readonly #now: () => number;
  readonly #buckets: number[];
  readonly #startedAt: number;
  #current: number; // index (time / bucketMs) of the newest bucket

  constructor(options: ArrivalRateOptions = {}) {
    this.bucketMs = options.bucketMs ?? 500;
    const count = Math.max(1, Math.round((options.windowMs ?? 5000) / this.bucketMs));
    this.windowMs = count * this.bucketMs;
    this.#now = options.now ?? Date.now;
    this.#buckets = new Array<number>(count).fill(0);
    this.#startedAt = this.#now();
    this.#current = Math.floor(this.#startedAt / this.bucketMs);
  }

  record(n = 1): void {
    this.#advance(this.#now());
    const i = this.#current % this.#buckets.length;
    this.#buckets[i] = (this.#buckets[i] ?? 0) + n;
  }

  perSecond(): number {
    const now = this.#now();
    this.#advance(now);
    let sum = 0;
    for (const n of this.#buckets) sum += n;
    // The newest bucket is only partly elapsed: cover the full older ones plus that part.
    const covered =
      (this.#buckets.length - 1) * this.bucketMs + (now - this.#current * this.bucketMs);
    const span = Math.max(this.bucketMs, Math.min(covered, now - this.#startedAt));
    return (sum * 1000) / span;
  }

  #advance(now: number): void {
    const index = Math.floor(now / this.bucketMs);
    const steps = Math.min(index - this.#current, this.#buckets.length);
    for (let k = 1; k <= steps; k++) this.#buckets[(this.#current + k) % this.#buckets.length] = 0;
    if (index > this.#current) this.#current = index;
  }
}

export type HttpLabels = "method" | "route" | "code";

/** One method, route and status: its requests since the last scrape, and its histogram. */
interface RouteSeries {
  labels: Record<HttpLabels, string>;
  finishedSinceScrape: number;
  duration: HistogramSeries;
}

/** The HTTP metrics every service exposes (README.md, Services), registered on `registry`. */
export interface HttpMetrics {
  requestsTotal: Counter<HttpLabels>;
  requestDuration: SeriesHistogram;
  /**
   * Counts a finished request in `http_requests_total` and `http_request_duration_seconds`.
   * The series of each method, route and status is made once and kept; the count is a plain
   * number added to the counter when scraped, and the histogram's buckets are the series' own
   * (`SeriesHistogram`), which spares a request prom-client's label validation and hashing.
   */
  finished(method: string, route: string, status: number, seconds: number): void;
  /** Counts a request's arrival (probes and scrapes excluded): `http_requests_received_total`,
   * `http_requests_in_flight` and the window behind `http_requests_per_second`. */
  arrived(): void;
  /** The end of a request that `arrived()`. */
  departed(): void;
  inFlight: Gauge;
  /** Set from `arrivals` at each scrape. */
  requestsPerSecond: Gauge;
  /** Feeds `http_requests_per_second`. */
  arrivals: ArrivalRate;
  /** Requests received (probes and scrapes excluded), counted on arrival: a scraper can take
   * the rate over its own window, shorter than the gauge's. */
  received: Counter;
}

export function createHttpMetrics(
  registry: Registry,
  options: { arrivals?: ArrivalRate } = {},
): HttpMetrics {
  const arrivals = options.arrivals ?? new ArrivalRate();
  const labelNames = ["method", "route", "code"] as const;
  // Plain numbers on the request path, copied into their metrics when scraped.
  let inFlightNow = 0;
  let receivedSinceScrape = 0;
  const all: RouteSeries[] = [];
  const requestsTotal = new Counter({
    name: "http_requests_total",
    help: "HTTP requests finished, by method, route pattern and status code.",
    labelNames,
    registers: [registry],
    collect() {
      for (const s of all) {
        if (s.finishedSinceScrape > 0) this.inc(s.labels, s.finishedSinceScrape);
        s.finishedSinceScrape = 0;
      }
    },
  });
  const requestDuration = new SeriesHistogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency from arrival to the response head, in seconds.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registry,
  });
  // route → method → status → series. Routes are patterns and statuses few, so it stays small.
  const series = new Map<string, Map<string, Map<number, RouteSeries>>>();
  const seriesOf = (method: string, route: string, status: number): RouteSeries => {
    let byMethod = series.get(route);
    if (!byMethod) {
      byMethod = new Map();
      series.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (!byStatus) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let s = byStatus.get(status);
    if (!s) {
      const labels = { method, route, code: String(status) };
      s = { labels, finishedSinceScrape: 0, duration: requestDuration.series(labels) };
      byStatus.set(status, s);
      all.push(s);
    }
    return s;
  };
  const received = new Counter({
    name: "http_requests_received_total",
    help: "HTTP requests received, counted on arrival (probes and scrapes excluded).",
    registers: [registry],
    collect() {
      if (receivedSinceScrape > 0) this.inc(receivedSinceScrape);
      receivedSinceScrape = 0;
    },
  });
  return {
    requestsTotal,
    requestDuration,
    finished(method, route, status, seconds) {
      const s = seriesOf(method, route, status);
      s.finishedSinceScrape++;
      requestDuration.observe(s.duration, seconds);
    },
    arrived() {
      arrivals.record();
      receivedSinceScrape++;
      inFlightNow++;
    },
    departed() {
      inFlightNow--;
    },
    inFlight: new Gauge({
      name: "http_requests_in_flight",
      help: "HTTP requests being served now (probes and scrapes excluded).",
      registers: [registry],
      collect() {
        this.set(inFlightNow);
      },
    }),
    requestsPerSecond: new Gauge({
      name: "http_requests_per_second",
      help: `HTTP requests received per second over the last ${arrivals.windowMs / 1000} s (probes and scrapes excluded).`,
      registers: [registry],
      collect() {
        this.set(arrivals.perSecond());
      },
    }),
    arrivals,
    received,
  };
}
