/**
 * Splits a stream of HTTP/1.1 responses on one connection into their status codes: the load
 * client's whole parser. It reads only what the benchmarked servers send (a status line,
 * headers with Content-Length, a body of that length); anything else is an error that names
 * what it got, never a guess.
 */
export class ResponseSplitter {
  #buffer = "";

  /** Feeds bytes as read (latin1, so lengths are byte counts); returns each whole response's status. */
  push(chunk: string): number[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : this.#buffer + chunk;
    const statuses: number[] = [];
    for (;;) {
      const end = this.#buffer.indexOf("\r\n\r\n");
      if (end < 0) break;
      const head = this.#buffer.slice(0, end);
      const status = statusOf(head);
      const length = contentLength(head);
      const total = end + 4 + length;
      if (this.#buffer.length < total) break;
      statuses.push(status);
      this.#buffer = this.#buffer.slice(total);
    }
    return statuses;
  }
}

function statusOf(head: string): number {
  // "HTTP/1.1 202 Accepted": the code is the three characters after the first space.
  const status = head.startsWith("HTTP/1.") ? Number(head.slice(9, 12)) : Number.NaN;
  if (!Number.isInteger(status)) throw new Error(`not an HTTP/1.x response: ${head.slice(0, 80)}`);
  return status;
}

function contentLength(head: string): number {
  const lower = head.toLowerCase();
  const at = lower.indexOf("\r\ncontent-length:");
  if (at < 0) {
    throw new Error(`response without Content-Length (chunked is not read): ${head.slice(0, 200)}`);
  }
  const from = at + "\r\ncontent-length:".length;
  const to = lower.indexOf("\r\n", from);
  const n = Number(lower.slice(from, to < 0 ? undefined : to).trim());
  if (!Number.isInteger(n) || n < 0) throw new Error(`bad Content-Length in ${head.slice(0, 200)}`);
  return n;
}

/**
 * Latencies in 10 µs buckets up to 10 s (anything slower lands in the last): recording is an
 * increment, so the client's own cost does not grow with the number of requests.
 */
export class LatencyHistogram {
  static readonly BUCKET_MS = 0.01;
  readonly #counts = new Uint32Array(1_000_000);
  #n = 0;

  record(ms: number): void {
    const i = Math.min(
      this.#counts.length - 1,
      Math.max(0, Math.floor(ms / LatencyHistogram.BUCKET_MS)),
    );
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#n++;
  }

  get count(): number {
    return this.#n;
  }

  /** The p-th percentile (0..100) in ms, as the upper edge of its bucket; NaN when empty. */
  percentile(p: number): number {
    if (this.#n === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#n));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return (i + 1) * LatencyHistogram.BUCKET_MS;
    }
    return this.#counts.length * LatencyHistogram.BUCKET_MS;
  }
}
