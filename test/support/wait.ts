/**
 * The one polling helper of the tests: `check` is called until it returns a value other than
 * undefined or false, and `waitFor` resolves with it; an exception counts as "not yet". After
 * `timeoutMs` it fails naming what it waited for and what it saw last (plus `context()`, e.g.
 * a process's output).
 */
export interface WaitOptions {
  timeoutMs?: number;
  /** Pause between checks. */
  everyMs?: number;
  /** Appended to the timeout's message. */
  context?: () => string;
}

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions | number = {},
): Promise<T> {
  const {
    timeoutMs = 30_000,
    everyMs = 50,
    context,
  } = typeof options === "number" ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let last = "not yet";
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = "not yet";
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const more = context ? `\n${context()}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})${more}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
