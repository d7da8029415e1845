import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseLoadLog, serverErrors } from "../../../../tools/node/load-log.ts";

const repo = path.resolve(import.meta.dirname, "../../../..");

describe("parseLoadLog", () => {
  it("reads the start, the progress and the summary, with the API's timestamps", () => {
    const log = [
      "2026-12-02T06:00:00.123456789Z load: GET http://api/ spike up to 150/s for 120s (open loop)",
      "2026-12-02T06:00:05.500000000Z t=5s/120s target=15/s sent=75 2xx=74 429=0 err=0 open=1",
      "2026-12-02T06:00:30.000000000Z t=30s/120s target=150/s sent=900 2xx=890 429=3 err=2 open=5",
      "2026-12-02T06:02:01.000000000Z sent         3000",
      "2026-12-02T06:02:01.000000000Z 2xx          2990",
      "2026-12-02T06:02:01.000000000Z 429          3 (1 without Retry-After)",
      "2026-12-02T06:02:01.000000000Z other errors 7 (503: 4, ECONNRESET: 2, 500: 1)",
      "2026-12-02T06:02:01.000000000Z latency p50  21.0 ms",
    ].join("\n");
    const l = parseLoadLog(log);
    expect(l.startedAtMs).toBe(Date.parse("2026-12-02T06:00:00.123Z"));
    expect([l.rps, l.durationS]).toEqual([150, 120]);
    expect(l.progress).toEqual([
      {
        atMs: Date.parse("2026-12-02T06:00:05.500Z"),
        t: 5,
        target: 15,
        sent: 75,
        ok: 74,
        tooMany: 0,
        errors: 0,
      },
      {
        atMs: Date.parse("2026-12-02T06:00:30Z"),
        t: 30,
        target: 150,
        sent: 900,
        ok: 890,
        tooMany: 3,
        errors: 2,
      },
    ]);
    expect(l.summary).toEqual({
      sent: 3000,
      ok: 2990,
      tooMany: 3,
      errors: 7,
      errorKinds: { "503": 4, ECONNRESET: 2, "500": 1 },
    });
    expect(serverErrors(l.summary as NonNullable<typeof l.summary>)).toBe(5);
  });

  it("has no summary until the run printed one", () => {
    const l = parseLoadLog("load: GET http://api/ spike up to 150/s for 120s (open loop)\n");
    expect(l.summary).toBeUndefined();
    expect(l.startedAtMs).toBeNaN();
  });

  it("reads what `npm run load` really prints (a run against a server answering 200 and 503)", async () => {
    let n = 0;
    const server = createServer((_req, res) => {
      n++;
      res.writeHead(n % 10 === 0 ? 503 : 200, { "content-type": "application/json" });
      res.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [
          "--import",
          "tsx",
          "tools/load/main.ts",
          `--target=http://127.0.0.1:${port}/`,
          "--profile=constant",
          "--rps=20",
          "--duration=6s",
          "--controller=http://127.0.0.1:1",
        ],
        { cwd: repo },
      );
      const l = parseLoadLog(`${stdout}\n${stderr}`);
      expect([l.rps, l.durationS]).toEqual([20, 6]);
      expect(l.progress.map((p) => p.t)).toContain(5);
      expect(l.summary?.sent).toBe(n);
      expect((l.summary?.ok ?? 0) + serverErrors(l.summary as NonNullable<typeof l.summary>)).toBe(
        n,
      );
      expect(l.summary?.errorKinds["503"]).toBe(Math.floor(n / 10));
    } finally {
      server.close();
    }
  }, 30_000);
});
