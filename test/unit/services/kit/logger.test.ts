import { setImmediate as turnEnd } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { isoTimeCached, perTurn } from "../../../../services/kit/logger.ts";

/** A destination that records each write it is given. */
function recorder() {
  const writes: string[] = [];
  return { writes, write: (text: string) => void writes.push(text) };
}

describe("perTurn", () => {
  it("joins the lines of one event-loop turn into one write, at the end of the turn", async () => {
    const out = recorder();
    const dest = perTurn(out);
    dest.write("a\n");
    dest.write("b\n");
    expect(out.writes).toEqual([]);
    await turnEnd();
    expect(out.writes).toEqual(["a\nb\n"]);
    dest.write("c\n");
    await turnEnd();
    expect(out.writes).toEqual(["a\nb\n", "c\n"]);
  });

  it("flush and flushSync write what is pending at once", () => {
    const out = recorder();
    const dest = perTurn(out);
    dest.write("a\n");
    let flushed = false;
    dest.flush(() => {
      flushed = true;
    });
    expect(flushed).toBe(true);
    dest.write("b\n");
    dest.flushSync();
    expect(out.writes).toEqual(["a\n", "b\n"]);
  });
});

describe("isoTimeCached", () => {
  it.each([
    [0, ',"time":"1970-01-01T00:00:00.000Z"'],
    [1_764_633_600_123, ',"time":"2025-12-02T00:00:00.123Z"'],
  ])("at %d ms formats pino's time field as %s", (ms, field) => {
    expect(isoTimeCached(() => ms)()).toBe(field);
  });

  it("follows the clock from one millisecond to the next", () => {
    let now = 1000;
    const time = isoTimeCached(() => now);
    expect(time()).toBe(',"time":"1970-01-01T00:00:01.000Z"');
    now = 1001;
    expect(time()).toBe(',"time":"1970-01-01T00:00:01.001Z"');
  });
});
