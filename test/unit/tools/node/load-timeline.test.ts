import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { WorkQueue } from "../../../../services/kit/work-queue.ts";
import { queueCounts } from "../../../../tools/node/load-timeline.ts";

describe("queueCounts", () => {
  it("reads the kit's work queue counts from its real /metrics page", async () => {
    const registry = new Registry();
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const queue = new WorkQueue<{ fail: boolean }>({
      capacity: 10,
      concurrency: 1,
      registry,
      run: async (job) => {
        await gate;
        if (job.fail) throw new Error("failed job");
      },
    });
    for (const fail of [false, true, false]) expect(queue.submit({ fail }).ok).toBe(true);
    expect(queueCounts(await registry.metrics())).toEqual({
      accepted: 3,
      finished: 0,
      failed: 0,
      queued: 2,
    });
    release();
    await queue.drain(AbortSignal.timeout(5_000));
    expect(queueCounts(await registry.metrics())).toEqual({
      accepted: 3,
      finished: 3,
      failed: 1,
      queued: 0,
    });
  });

  it("a page without the queue's metrics gives NaN, not zeros", () => {
    expect(queueCounts("# nothing here\n").accepted).toBeNaN();
  });
});
