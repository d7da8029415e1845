import { describe, expect, it } from "vitest";
import { LatencyHistogram, ResponseSplitter } from "../../../../tools/bench/http-responses.ts";

const response = (status: number, body: string) =>
  `HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

describe("the load client's response splitter", () => {
  it("reads each status once, however the bytes are cut", () => {
    const stream =
      response(202, '{"accepted":true}') + response(409, '{"status":409}') + response(202, "");
    for (let cut = 1; cut < stream.length; cut += 7) {
      const splitter = new ResponseSplitter();
      const statuses = [
        ...splitter.push(stream.slice(0, cut)),
        ...splitter.push(stream.slice(cut)),
      ];
      expect(statuses).toEqual([202, 409, 202]);
    }
  });

  it.each([
    [
      "a chunked response",
      "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n",
      /Content-Length/,
    ],
    ["something that is not HTTP", "SSH-2.0-x\r\n\r\n", /not an HTTP/],
    ["a bad length", "HTTP/1.1 202 A\r\nContent-Length: -1\r\n\r\n", /bad Content-Length/],
  ])("refuses %s, naming it", (_name, bytes, message) => {
    expect(() => new ResponseSplitter().push(bytes)).toThrow(message);
  });
});

describe("the load client's latency histogram", () => {
  it("gives percentiles to the 10 µs bucket above them", () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) h.record(i / 10); // 0.1 .. 10 ms
    expect(h.count).toBe(100);
    expect(h.percentile(50)).toBeCloseTo(5.01, 5);
    expect(h.percentile(99)).toBeCloseTo(9.91, 5);
  });

  it("is NaN when empty, and keeps a slow outlier in its last bucket", () => {
    const h = new LatencyHistogram();
    expect(h.percentile(99)).toBeNaN();
    h.record(60_000);
    expect(h.percentile(100)).toBe(10_000);
  });
});
