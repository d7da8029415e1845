import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../../../sidecar/controller/rate-limit.ts";

describe("RateLimiter", () => {
  it("allows a burst, then one per 1/rate seconds, per key", () => {
    const rl = new RateLimiter(2, 3);
    const t = 1_000_000;
    expect([rl.take("a", t), rl.take("a", t), rl.take("a", t)]).toEqual([0, 0, 0]);
    expect(rl.take("a", t)).toBeCloseTo(0.5);
    expect(rl.take("b", t)).toBe(0); // another pod is not affected
    expect(rl.take("a", t + 500)).toBe(0); // one token refilled after 1/rate s
    expect(rl.take("a", t + 500)).toBeGreaterThan(0);
  });

  it("a clock stepped back an hour is no time passed, not an hour of debt", () => {
    const rl = new RateLimiter(2, 3);
    const t = 1_000_000_000;
    for (let i = 0; i < 3; i++) rl.take("a", t + 3_600_000);
    // Back to the real time: the bucket is as empty as it was, and refills from here.
    expect(rl.take("a", t)).toBeCloseTo(0.5);
    expect(rl.take("a", t + 500)).toBe(0);
  });
});
