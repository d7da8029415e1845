/** A failed fetch in a few words for a log line: "timeout", "ECONNREFUSED", "bad port"… */
export function fetchErrorReason(error: unknown): { timeout: boolean; reason: string } {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return { timeout: true, reason: "timeout" };
  }
  // undici wraps the socket error: the useful part is in `cause`.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === "string") return { timeout: false, reason: cause.code };
  if (typeof cause?.message === "string") return { timeout: false, reason: cause.message };
  return { timeout: false, reason: error instanceof Error ? error.message : String(error) };
}
