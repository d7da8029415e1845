import { describe, expect, it } from "vitest";
import { ConcurrencyLimiter } from "../../../../services/kit/limiter.ts";
import { HttpProblem } from "../../../../services/kit/problem.ts";

function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe("ConcurrencyLimiter", () => {
  it("runs at most `concurrency` tasks, the rest wait in order, beyond maxWaiting 503", async () => {
    const limiter = new ConcurrencyLimiter({ concurrency: 2, maxWaiting: 2 });
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      limiter.run(async () => {
        started.push(i);
        await g.opened;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(limiter.active).toBe(2);
    expect(limiter.waiting).toBe(2);

    const refused = await limiter.run(async () => 99).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(HttpProblem);
    expect((refused as HttpProblem).status).toBe(503);

    gates[1]?.open();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(limiter.active).toBe(0);
    expect(limiter.waiting).toBe(0);
  });

  it("frees the slot when a task throws", async () => {
    const limiter = new ConcurrencyLimiter({ concurrency: 1, maxWaiting: 0 });
    await expect(limiter.run(async () => Promise.reject(new Error("x")))).rejects.toThrow("x");
    expect(await limiter.run(async () => "ok")).toBe("ok");
  });
});
