import { readFile, stat } from "node:fs/promises";

/** Where the bearer token comes from. Never log what `get` returns. */
export interface TokenSource {
  get(): Promise<string | undefined>;
  /** The controller refused the token: read it again on the next `get`. */
  invalidate(): void;
}

export function staticToken(token: string | undefined): TokenSource {
  return { get: async () => token, invalidate: () => {} };
}

/**
 * A token file, re-read when it changes: Kubernetes rotates projected ServiceAccount tokens by
 * swapping a symlink, so the file's inode, size or mtime change. `stat` on every `get` is cheap
 * next to the HTTP request it goes with. When the file cannot be read the last good token is
 * kept and `onError` told (once per distinct error message).
 */
export function fileToken(
  path: string,
  onError: (message: string) => void = () => {},
): TokenSource {
  let token: string | undefined;
  let version: string | undefined;
  let lastError: string | undefined;
  return {
    async get() {
      try {
        const s = await stat(path);
        const v = `${s.ino}:${s.size}:${s.mtimeMs}`;
        if (v !== version || token === undefined) {
          token = (await readFile(path, "utf8")).trim() || undefined;
          version = v;
        }
        lastError = undefined;
      } catch (error) {
        const message = `cannot read token file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
        if (message !== lastError) onError(message);
        lastError = message;
      }
      return token;
    },
    invalidate() {
      version = undefined;
    },
  };
}
