/** Load shapes for `npm run load`: requests per second at time t (seconds) of a run. */
export const PROFILES = ["step", "spike", "ramp", "sine", "constant"] as const;
export type Profile = (typeof PROFILES)[number];

/**
 * Target rate at `t` seconds into a run of `duration` seconds peaking at `rps`. Each shape
 * starts from a low baseline (a tenth of the peak) so the service is warm and the scaler has
 * something to grow from:
 * - step: baseline for the first fifth, then the peak to the end;
 * - spike: baseline, the peak from 20% to 50% of the run, then baseline again (so scale-down
 *   can be watched);
 * - ramp: baseline to peak linearly;
 * - sine: one period between baseline and peak (a compressed day);
 * - constant: the peak throughout.
 */
export function rateAt(profile: Profile, t: number, duration: number, rps: number): number {
  const base = rps / 10;
  const x = duration > 0 ? t / duration : 0;
  switch (profile) {
    case "step":
      return x < 0.2 ? base : rps;
    case "spike":
      return x >= 0.2 && x < 0.5 ? rps : base;
    case "ramp":
      return base + (rps - base) * Math.min(1, x);
    case "sine":
      return base + ((rps - base) * (1 - Math.cos(2 * Math.PI * x))) / 2;
    case "constant":
      return rps;
  }
}

/**
 * Send times (ms from the start) for an open-loop run: the integral of the rate, one send each
 * time it crosses a whole request, so the schedule is exact and independent of responses.
 */
export function* sendTimes(
  profile: Profile,
  durationS: number,
  rps: number,
  stepMs = 1,
): Generator<number> {
  let owed = 0;
  for (let ms = 0; ms < durationS * 1000; ms += stepMs) {
    owed += (rateAt(profile, ms / 1000, durationS, rps) * stepMs) / 1000;
    while (owed >= 1) {
      owed -= 1;
      yield ms;
    }
  }
}
