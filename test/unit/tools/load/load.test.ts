import { describe, expect, it } from "vitest";
import { parseLoadArgs } from "../../../../tools/load/args.ts";
import { rateAt, sendTimes } from "../../../../tools/load/profile.ts";
import { LoadStats, percentile } from "../../../../tools/load/stats.ts";

describe("load profiles", () => {
  it.each([
    { profile: "constant", rps: 10, duration: 3, sends: 30 },
    { profile: "step", rps: 100, duration: 10, sends: 2 * 10 + 8 * 100 },
    { profile: "spike", rps: 100, duration: 10, sends: 7 * 10 + 3 * 100 },
    { profile: "ramp", rps: 100, duration: 10, sends: 550 },
    { profile: "sine", rps: 100, duration: 10, sends: 550 },
  ] as const)(
    "$profile sends the integral of its rate ($sends)",
    ({ profile, rps, duration, sends }) => {
      const times = [...sendTimes(profile, duration, rps)];
      expect(Math.abs(times.length - sends)).toBeLessThanOrEqual(1);
      expect(times.every((t, i) => i === 0 || t >= (times[i - 1] ?? 0))).toBe(true);
      expect(Math.max(...times)).toBeLessThan(duration * 1000);
    },
  );

  it("spike is at the peak from 20% to 50% of the run only", () => {
    expect([1, 2, 4.9, 5, 9].map((t) => rateAt("spike", t, 10, 100))).toEqual([
      10, 100, 100, 10, 10,
    ]);
  });
});

describe("parseLoadArgs", () => {
  it("parses the README example", () => {
    const r = parseLoadArgs(
      '--target http://127.0.0.1:8081/jobs --method POST --body {"costMs":200} --profile spike --rps 200 --duration 60s --report out/'.split(
        " ",
      ),
    );
    expect(r.ok && { ...r.value, target: r.value.target.href }).toMatchObject({
      target: "http://127.0.0.1:8081/jobs",
      method: "POST",
      profile: "spike",
      rps: 200,
      durationS: 60,
      report: "out/",
    });
  });

  it.each([
    { argv: [], flag: "--target" },
    { argv: ["--target", "ftp://x"], flag: "--target" },
    { argv: ["--target", "http://x", "--rps", "0"], flag: "--rps" },
    { argv: ["--target", "http://x", "--duration", "soon"], flag: "--duration" },
    { argv: ["--target", "http://x", "--profile", "wave"], flag: "--profile" },
    { argv: ["--target", "http://x", "--body", "{nope"], flag: "--body" },
    { argv: ["--target", "http://x", "--bogus", "1"], flag: "--bogus" },
  ])("refuses $argv naming $flag", ({ argv, flag }) => {
    const r = parseLoadArgs(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.join("\n")).toContain(flag);
  });
});

describe("LoadStats", () => {
  it("counts outcomes by the second a request was sent and takes nearest-rank percentiles", () => {
    const s = new LoadStats();
    for (let i = 0; i < 100; i++) {
      s.sent(i / 50);
      s.done(i / 50, i % 10 === 0 ? "tooMany" : "ok", i + 1);
    }
    s.sent(1.5);
    s.done(1.5, "error", 5);
    expect(s.seconds.map((x) => [x.sent, x.ok, x.tooMany, x.errors])).toEqual([
      [50, 45, 5, 0],
      [51, 45, 5, 1],
    ]);
    expect(s.totals()).toMatchObject({
      sent: 101,
      ok: 90,
      tooMany: 10,
      errors: 1,
      p50Ms: 50,
      p99Ms: 99,
    });
    expect(percentile([], 0.5)).toBeNaN();
  });
});
