import parsePrometheusTextFormat from "parse-prometheus-text-format";

export type Labels = Readonly<Record<string, string>>;

export interface Series {
  labels: Labels;
  value: number;
}

/** How the agent treats a family: counters become rates, gauges are read as they are. */
export type FamilyKind = "counter" | "gauge" | "other";

export interface Family {
  kind: FamilyKind;
  series: Series[];
}

/** One scrape's metrics by family name. Histograms and summaries are kept as kind "other". */
export type Exposition = ReadonlyMap<string, Family>;

/**
 * Parses Prometheus text exposition. Untyped families are read by name, as Prometheus's own
 * conventions suggest: `_total` is a counter, anything else a gauge. Throws on malformed text.
 */
export function parseExposition(text: string): Exposition {
  const out = new Map<string, Family>();
  for (const family of parsePrometheusTextFormat(text)) {
    const kind = familyKind(family.type, family.name);
    const series: Series[] = [];
    if (kind !== "other") {
      for (const sample of family.metrics) {
        if (sample.value === undefined) continue;
        series.push({ labels: sample.labels ?? {}, value: parseValue(sample.value) });
      }
    }
    out.set(family.name, { kind, series });
  }
  return out;
}

function familyKind(type: string, name: string): FamilyKind {
  switch (type) {
    case "COUNTER":
      return "counter";
    case "GAUGE":
      return "gauge";
    case "UNTYPED":
      return name.endsWith("_total") ? "counter" : "gauge";
    default:
      return "other";
  }
}

/** Go's strconv.ParseFloat spellings that Prometheus writes, plus plain numbers. */
function parseValue(raw: string): number {
  switch (raw) {
    case "+Inf":
    case "Inf":
      return Number.POSITIVE_INFINITY;
    case "-Inf":
      return Number.NEGATIVE_INFINITY;
    case "NaN":
      return Number.NaN;
    default:
      return raw.trim() === "" ? Number.NaN : Number(raw);
  }
}
