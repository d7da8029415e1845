/**
 * Load traces: arrivals per second, one value per second of simulated time. Built-ins are
 * generated (deterministically, `noisy` from the seed); a CSV file with header `t,rps` (t in
 * seconds, rising) is read as a step function: each row holds until the next.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";

export interface Trace {
  name: string;
  /** rps[i] = arrivals per second during second i */
  rps: number[];
  /** the service's cold start, when the trace draws its own (random traces) */
  coldStartSeconds?: number;
}

/** Small deterministic PRNG (mulberry32): the same seed gives the same trace on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seconds = (n: number, f: (t: number) => number) => Array.from({ length: n }, (_, t) => f(t));
const lerp = (a: number, b: number, x: number) => a + (b - a) * Math.min(1, Math.max(0, x));

/** What each built-in is for (printed by --help and in docs/simulator.md). */
export const BUILTIN_TRACES = {
  step: "200 rps, a step to 500 rps at 120 s for 5 minutes, back to 200",
  spike: "200 rps, a 60 s spike to 1000 rps at 180 s",
  ramp: "200 rps, a 5-minute ramp to 1000, 3 minutes there, a 5-minute ramp down",
  sine: "diurnal shape compressed to 10 minutes a period: 200..800 rps, two periods",
  sawtooth: "flash sales: every 3 minutes a jump from 200 to 800 rps, decaying over 90 s",
  oscillating: "flapping bait: 300 rps swinging to 324 (+8%) every 15 s, inside the tolerance band",
  noisy: "400 rps drifting ±25% over 15 minutes, with ±10% second-to-second noise (--seed)",
} as const;
export type BuiltinTrace = keyof typeof BUILTIN_TRACES;
export const BUILTIN_NAMES = Object.keys(BUILTIN_TRACES) as BuiltinTrace[];

export function builtinTrace(name: BuiltinTrace, seed: number): Trace {
  switch (name) {
    case "step":
      return { name, rps: seconds(600, (t) => (t >= 120 && t < 420 ? 500 : 200)) };
    case "spike":
      return { name, rps: seconds(600, (t) => (t >= 180 && t < 240 ? 1000 : 200)) };
    case "ramp":
      return {
        name,
        rps: seconds(960, (t) =>
          t < 60
            ? 200
            : t < 360
              ? lerp(200, 1000, (t - 60) / 300)
              : t < 540
                ? 1000
                : lerp(1000, 200, (t - 540) / 300),
        ),
      };
    case "sine":
      return { name, rps: seconds(1200, (t) => 500 - 300 * Math.cos((2 * Math.PI * t) / 600)) };
    case "sawtooth":
      return {
        name,
        rps: seconds(720, (t) => {
          if (t < 60) return 200;
          const k = (t - 60) % 180;
          return k < 90 ? lerp(800, 200, k / 90) : 200;
        }),
      };
    case "oscillating":
      return { name, rps: seconds(600, (t) => (Math.floor(t / 15) % 2 === 0 ? 300 : 324)) };
    case "noisy": {
      const rnd = prng(seed);
      return {
        name,
        rps: seconds(
          900,
          (t) => 400 * (1 + 0.25 * Math.sin((2 * Math.PI * t) / 900)) * (1 + 0.2 * (rnd() - 0.5)),
        ),
      };
    }
  }
}

/** How long a random trace runs (s). */
export const RANDOM_TRACE_SECONDS = 1200;

/**
 * `random:SEED`: traffic no one tuned for, the same for a seed on every machine. One diurnal rise
 * and fall (peak somewhere in the middle 40 %, baseline 15-70 % of the peak), a peak that needs
 * 1 to 500 replicas at `serviceRate` (log-uniform), 0-4 bursts of 1.2-3× for 5-180 s (log-uniform,
 * some with ramped edges), correlated noise of 0-15 %, and a cold start of 2-60 s.
 */
export function randomTrace(seed: number, serviceRate = 5): Trace {
  const r = prng(Math.imul(seed, 0x9e3779b1) ^ 0x85ebca6b);
  const between = (a: number, b: number) => a + (b - a) * r();
  const logBetween = (a: number, b: number) => Math.exp(between(Math.log(a), Math.log(b)));
  const T = RANDOM_TRACE_SECONDS;
  const peak = serviceRate * logBetween(1, 500);
  const base = between(0.15, 0.7);
  const top = between(0.3, 0.7);
  const sigma = between(0, 0.15);
  const bursts = Array.from({ length: Math.floor(between(0, 5)) }, () => ({
    start: between(0, T),
    length: logBetween(5, 180),
    factor: between(1.2, 3),
    edge: r() < 0.3 ? between(5, 30) : 0,
  }));
  const coldStartSeconds = Math.round(between(2, 60));
  let noise = 0;
  const rps = seconds(T, (t) => {
    const u = t / T;
    const shape =
      u < top
        ? 0.5 - 0.5 * Math.cos((Math.PI * u) / top)
        : 0.5 + 0.5 * Math.cos((Math.PI * (u - top)) / (1 - top));
    let level = peak * (base + (1 - base) * shape);
    for (const b of bursts) {
      const into = t - b.start;
      if (into < 0 || into >= b.length) continue;
      const ramp = b.edge > 0 ? Math.min(1, into / b.edge, (b.length - into) / b.edge) : 1;
      level *= 1 + (b.factor - 1) * ramp;
    }
    // AR(1): second-to-second noise that wanders, as real traffic does
    noise = 0.7 * noise + sigma * (r() - 0.5) * 2 * Math.sqrt(1 - 0.49);
    return Math.max(0, level * (1 + noise));
  });
  return { name: `random:${seed}`, rps, coldStartSeconds };
}

/** Parse `t,rps` CSV text into per-second arrivals. */
export function parseTraceCsv(text: string, name: string): Trace {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = (lines.shift() ?? "").replace(/\s/g, "").toLowerCase();
  if (header !== "t,rps") throw new Error(`${name}: expected the header "t,rps", got "${header}"`);
  const rows: { t: number; rps: number }[] = [];
  for (const [i, line] of lines.entries()) {
    const [ts, rs] = line.split(",");
    const t = Number(ts);
    const rps = Number(rs);
    if (!Number.isFinite(t) || !Number.isFinite(rps) || t < 0 || rps < 0) {
      throw new Error(`${name}:${i + 2}: expected "t,rps" with numbers >= 0, got "${line}"`);
    }
    if (rows.length > 0 && t <= (rows.at(-1) as { t: number }).t) {
      throw new Error(
        `${name}:${i + 2}: t must rise (${t} after ${(rows.at(-1) as { t: number }).t})`,
      );
    }
    rows.push({ t, rps });
  }
  if (rows.length === 0) throw new Error(`${name}: no rows`);
  const end = Math.ceil((rows.at(-1) as { t: number }).t) + 1;
  const rps: number[] = [];
  let j = 0;
  for (let s = 0; s < end; s++) {
    while (j + 1 < rows.length && (rows[j + 1] as { t: number }).t <= s) j++;
    rps.push((rows[j] as { rps: number }).rps);
  }
  return { name, rps };
}

export function loadTrace(spec: string, seed: number, serviceRate = 5): Trace {
  if ((BUILTIN_NAMES as string[]).includes(spec)) return builtinTrace(spec as BuiltinTrace, seed);
  const random = /^random(?::(-?\d+))?$/.exec(spec);
  if (random) return randomTrace(random[1] === undefined ? seed : Number(random[1]), serviceRate);
  let text: string;
  try {
    text = readFileSync(spec, "utf8");
  } catch {
    throw new Error(
      `"${spec}" is neither a built-in trace (${BUILTIN_NAMES.join(", ")}) nor a readable CSV file`,
    );
  }
  return parseTraceCsv(text, basename(spec).replace(/\.csv$/i, ""));
}
