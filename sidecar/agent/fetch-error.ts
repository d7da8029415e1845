/** A failed request in a few words for a log line: "timeout", "ECONNREFUSED", "bad port"… */
export function fetchErrorReason(error: unknown): { timeout: boolean; reason: string } {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return { timeout: true, reason: "timeout" };
  }
  // node:http rejects with the socket error itself; undici (fetch) wraps it in `cause`.
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") return { timeout: false, reason: code };
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === "string") return { timeout: false, reason: cause.code };
  if (typeof cause?.message === "string") return { timeout: false, reason: cause.message };
  return { timeout: false, reason: error instanceof Error ? error.message : String(error) };
}
