// The package ships no types. This declares what its README documents and the agent uses:
// every value is a string as written in the exposition ("1027", "+Inf", "NaN").
declare module "parse-prometheus-text-format" {
  export interface PromSample {
    value?: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export interface PromFamily {
    name: string;
    help: string;
    /** Upper case: COUNTER, GAUGE, HISTOGRAM, SUMMARY, UNTYPED. */
    type: string;
    metrics: PromSample[];
  }
  /** Throws on a malformed line. */
  export default function parsePrometheusTextFormat(text: string): PromFamily[];
}
