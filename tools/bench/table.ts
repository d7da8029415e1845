/** One line of the benchmark table. */
export interface Row {
  section: string;
  figure: string;
  value: number;
  unit: string;
  /** `>= x` or `<= x`; none when the issue sets no target. */
  target?: { op: ">=" | "<="; value: number };
  /** How it was measured, briefly (baseline, runs). */
  note: string;
}

/** "ok", "MISSED", or "" without a target; "n/a" when the figure is missing. Pure. */
export function verdict(row: Row): string {
  if (!row.target) return "";
  if (!Number.isFinite(row.value)) return "n/a";
  const { op, value } = row.target;
  return (op === ">=" ? row.value >= value : row.value <= value) ? "ok" : "MISSED";
}

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toFixed(digits);
  return unit ? `${text} ${unit}` : text;
}

/** The rows as an aligned text table. Pure. */
export function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.section,
    r.figure,
    formatValue(r.value, r.unit),
    r.target ? `${r.target.op} ${r.target.value}` : "",
    verdict(r),
    r.note,
  ]);
  const header = ["section", "figure", "value", "target", "", "how"];
  const all = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...all.map((c) => (c[i] as string).length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === 2 ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}
