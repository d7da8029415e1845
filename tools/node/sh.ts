import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Runs a command; resolves with its stdout, rejects naming the command and its stderr. */
export async function sh(command: string, args: string[], input?: string): Promise<string> {
  try {
    const child = execFileAsync(command, args, { maxBuffer: 64 << 20 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    return (await child).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw new Error(`${command} not found on PATH`);
    throw new Error(`${command} ${args.join(" ")} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** The same, for cleanup: a failure (already gone) is not an error. */
export async function shQuiet(command: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(command, args);
  } catch {
    // Nothing to clean.
  }
}
