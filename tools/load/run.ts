import { setImmediate, setTimeout as sleep } from "node:timers/promises";
import { type Profile, sendTimes } from "./profile.ts";
import { LoadStats, type Outcome } from "./stats.ts";

export interface LoadOptions {
  target: URL;
  method: string;
  body: string | undefined;
  profile: Profile;
  rps: number;
  durationS: number;
  /** Requests still open when the run ends get this long to finish. */
  timeoutMs: number;
  /** A cap on open requests: a send over it counts as a client-side error, not a wait. */
  maxInFlight: number;
  signal: AbortSignal;
  onSecond?: (second: number, stats: LoadStats, inFlight: number) => void;
}

/**
 * An open-loop load run: requests go out on schedule whatever the responses do, as real users
 * arrive. A closed loop (send, wait, send) slows down when the service does and hides exactly
 * the overload a scaler must see.
 */
export async function runLoad(o: LoadOptions): Promise<LoadStats> {
  const stats = new LoadStats();
  const start = performance.now();
  const pending = new Set<Promise<void>>();
  const headers = o.body === undefined ? undefined : { "content-type": "application/json" };
  let lastSecond = -1;

  const send = (sentAt: number) => {
    stats.sent(sentAt);
    if (pending.size >= o.maxInFlight) {
      stats.done(sentAt, "error", 0, "client: too many open requests");
      return;
    }
    const t0 = performance.now();
    const p = fetch(o.target, {
      method: o.method,
      headers,
      body: o.body,
      signal: AbortSignal.timeout(o.timeoutMs),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        const outcome: Outcome =
          res.status >= 200 && res.status < 300 ? "ok" : res.status === 429 ? "tooMany" : "error";
        if (res.status === 429 && !res.headers.has("retry-after")) stats.tooManyWithoutRetryAfter++;
        stats.done(sentAt, outcome, performance.now() - t0, String(res.status));
      })
      .catch((err: Error & { cause?: { code?: string } }) =>
        stats.done(sentAt, "error", performance.now() - t0, err.cause?.code ?? err.name),
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  };

  for (const atMs of sendTimes(o.profile, o.durationS, o.rps)) {
    if (o.signal.aborted) break;
    const wait = atMs - (performance.now() - start);
    if (wait > 2) await sleep(wait);
    // Behind schedule: still let responses in between sends. A loop that only sends leaves
    // every answer unread until it catches up, so each send opens yet another connection.
    else await setImmediate();
    const now = (performance.now() - start) / 1000;
    const second = Math.floor(now);
    if (second !== lastSecond) {
      lastSecond = second;
      o.onSecond?.(second, stats, pending.size);
    }
    send(atMs / 1000);
  }
  // Let the tail of the schedule finish (bounded by each request's own timeout).
  await Promise.allSettled([...pending]);
  return stats;
}
