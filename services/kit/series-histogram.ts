import type { Registry } from "prom-client";

/** One label set's buckets: `counts[i]` observations fell in bucket i (the last one is +Inf). */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface ExposedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A Prometheus histogram whose series are made once and then observed directly: prom-client's
 * `Histogram` validates and hashes the labels on every observation, even through `labels()`,
 * which on a trivial request was a few per cent of its CPU. Registered on a prom-client registry
 * (it reads `get()` at each scrape), it exposes what prom-client's would for the same
 * observations: `_bucket` with `le`, `_sum`, `_count`.
 */
export class SeriesHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #bounds: readonly number[];
  readonly #series: HistogramSeries[] = [];

  constructor(options: {
    name: string;
    help: string;
    buckets: readonly number[];
    registry: Registry;
  }) {
    this.name = options.name;
    this.help = options.help;
    this.#bounds = [...options.buckets].sort((a, b) => a - b);
    // prom-client's Registry takes any object with its Metric's shape.
    options.registry.registerMetric(this as never);
  }

  /** A series for `labels`; keep it and pass it to `observe`. */
  series(labels: Record<string, string>): HistogramSeries {
    const s = { labels, counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
    this.#series.push(s);
    return s;
  }

  observe(s: HistogramSeries, value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count++;
  }

  get() {
    const values: ExposedValue[] = [];
    for (const s of this.#series) {
      if (s.count === 0) continue; // as prom-client: a label set appears once observed
      let cumulative = 0;
      for (let i = 0; i <= this.#bounds.length; i++) {
        cumulative += s.counts[i] ?? 0;
        const le = i < this.#bounds.length ? (this.#bounds[i] as number) : "+Inf";
        values.push({
          labels: { le, ...s.labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  reset(): void {
    for (const s of this.#series) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
