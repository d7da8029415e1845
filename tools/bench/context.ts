import { freePort } from "../local/ports.ts";
import type { Entries } from "./build.ts";

/** What every benchmark section is given: how long to run, and where to say what it does. */
export interface BenchContext {
  quick: boolean;
  /** A progress line on stderr. */
  progress(message: string): void;
  freePort(): Promise<number>;
  /** Where each program's entry is: built JavaScript or the sources. */
  entries: Entries;
  /** Programs to kill if the run is interrupted. */
  cleanup: Set<() => Promise<void>>;
}

export function benchContext(
  quick: boolean,
  entries: Entries,
  write: (line: string) => void,
): BenchContext {
  const t0 = performance.now();
  return {
    quick,
    entries,
    progress(message) {
      const s = ((performance.now() - t0) / 1000).toFixed(0).padStart(4);
      write(`[bench ${s}s] ${message}\n`);
    },
    freePort: () => freePort(),
    cleanup: new Set(),
  };
}
