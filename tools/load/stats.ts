/** Outcome counts and latencies of a load run, per second and in total. Pure. */
export interface SecondStats {
  t: number;
  sent: number;
  ok: number;
  tooMany: number;
  errors: number;
  latenciesMs: number[];
}

export type Outcome = "ok" | "tooMany" | "error";

export class LoadStats {
  readonly seconds: SecondStats[] = [];
  /** Errors by kind ("503", "ECONNRESET", "timeout", …), for the summary. */
  readonly errorKinds = new Map<string, number>();
  /** 429 answers that did not say when to come back (a well-behaved server always does). */
  tooManyWithoutRetryAfter = 0;

  #second(t: number): SecondStats {
    const i = Math.max(0, Math.floor(t));
    for (let k = this.seconds.length; k <= i; k++) {
      this.seconds.push({ t: k, sent: 0, ok: 0, tooMany: 0, errors: 0, latenciesMs: [] });
    }
    return this.seconds[i] as SecondStats;
  }

  sent(tSeconds: number): void {
    this.#second(tSeconds).sent++;
  }

  /** Records a finished request by the second it was SENT, so latency charts line up with load. */
  done(sentAtSeconds: number, outcome: Outcome, latencyMs: number, errorKind?: string): void {
    const s = this.#second(sentAtSeconds);
    if (outcome === "error") {
      const kind = errorKind ?? "error";
      this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + 1);
    }
    if (outcome === "ok") s.ok++;
    else if (outcome === "tooMany") s.tooMany++;
    else s.errors++;
    if (outcome !== "error") s.latenciesMs.push(latencyMs);
  }

  totals() {
    const all = this.seconds.flatMap((s) => s.latenciesMs).sort((a, b) => a - b);
    const sum = (k: "sent" | "ok" | "tooMany" | "errors") =>
      this.seconds.reduce((a, s) => a + s[k], 0);
    return {
      sent: sum("sent"),
      ok: sum("ok"),
      tooMany: sum("tooMany"),
      errors: sum("errors"),
      p50Ms: percentile(all, 0.5),
      p99Ms: percentile(all, 0.99),
    };
  }
}

/** Nearest-rank percentile of sorted values; NaN when there are none. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  ] as number;
}
