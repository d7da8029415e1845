// What `npm run load` (tools/load/main.ts) prints, read back from a load Job container's log
// as the API serves it with timestamps: when the run started, its progress every 5 s, and
// its summary. Pure.

export interface LoadProgress {
  /** Wall clock of the line (epoch ms), from the log's timestamp. */
  atMs: number;
  /** Seconds into the run. */
  t: number;
  /** The profile's rate at t (requests/s). */
  target: number;
  sent: number;
  ok: number;
  tooMany: number;
  errors: number;
}

export interface LoadSummary {
  sent: number;
  ok: number;
  tooMany: number;
  errors: number;
  /** Errors by kind: an HTTP status ("503") or a client error ("ECONNRESET", "TimeoutError"). */
  errorKinds: Record<string, number>;
}

export interface LoadLog {
  /** Wall clock of the `load: ...` line, printed just before the first request (epoch ms). */
  startedAtMs: number | undefined;
  rps: number | undefined;
  durationS: number | undefined;
  progress: LoadProgress[];
  summary: LoadSummary | undefined;
}

// "2026-12-02T06:01:02.123456789Z rest": the API's timestamps=true prefix (nanoseconds).
const STAMPED = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.*)$/;

function stampMs(stamp: string): number {
  // Date.parse keeps milliseconds; the sub-millisecond digits are dropped first.
  return Date.parse(stamp.replace(/(\.\d{3})\d*Z$/, "$1Z"));
}

const count = (line: string, label: string): number | undefined => {
  const m = new RegExp(`^${label}\\s+(\\d+)`).exec(line);
  return m ? Number(m[1]) : undefined;
};

/** Reads a load container's log (lines with or without the API's timestamps). */
export function parseLoadLog(text: string): LoadLog {
  const out: LoadLog = {
    startedAtMs: undefined,
    rps: undefined,
    durationS: undefined,
    progress: [],
    summary: undefined,
  };
  const summary: Partial<LoadSummary> = {};
  for (const raw of text.split("\n")) {
    const stamped = STAMPED.exec(raw);
    const atMs = stamped ? stampMs(stamped[1] as string) : Number.NaN;
    const line = (stamped ? (stamped[2] as string) : raw).trimEnd();
    const start = /^load: \S+ \S+ \S+ up to ([\d.]+)\/s for ([\d.]+)s/.exec(line);
    if (start) {
      out.startedAtMs = atMs;
      out.rps = Number(start[1]);
      out.durationS = Number(start[2]);
      continue;
    }
    const p = /^t=(\d+)s\/[\d.]+s target=([\d.]+)\/s sent=(\d+) 2xx=(\d+) 429=(\d+) err=(\d+)/.exec(
      line,
    );
    if (p) {
      out.progress.push({
        atMs,
        t: Number(p[1]),
        target: Number(p[2]),
        sent: Number(p[3]),
        ok: Number(p[4]),
        tooMany: Number(p[5]),
        errors: Number(p[6]),
      });
      continue;
    }
    summary.sent ??= count(line, "sent");
    summary.ok ??= count(line, "2xx");
    summary.tooMany ??= count(line, "429");
    const errors = /^other errors\s+(\d+)(?: \((.*)\))?$/.exec(line);
    if (errors) {
      summary.errors = Number(errors[1]);
      summary.errorKinds = Object.fromEntries(
        (errors[2] ?? "")
          .split(", ")
          .filter(Boolean)
          .map((kv) => {
            const i = kv.lastIndexOf(": ");
            return [kv.slice(0, i), Number(kv.slice(i + 2))];
          }),
      );
    }
  }
  if (
    summary.sent !== undefined &&
    summary.ok !== undefined &&
    summary.tooMany !== undefined &&
    summary.errors !== undefined
  ) {
    out.summary = summary as LoadSummary;
  }
  return out;
}

/** Answers with a 5xx status among a summary's errors. */
export function serverErrors(s: LoadSummary): number {
  return Object.entries(s.errorKinds)
    .filter(([kind]) => /^5\d\d$/.test(kind))
    .reduce((a, [, n]) => a + n, 0);
}
