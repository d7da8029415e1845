import { spawn } from "node:child_process";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Debian's docker CLI (20.10), which drives the engine's built-in BuildKit itself. The static
 * CLI 28 some machines have in /usr/local/bin needs the buildx plugin for BuildKit builds.
 */
export const dockerCli = "/usr/bin/docker";

/** Runs the docker CLI against the node's engine; rejects with its last output lines. */
export function docker(
  host: string,
  args: string[],
  log?: (line: string) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(dockerCli, args, {
      env: { ...process.env, DOCKER_HOST: `unix://${host}`, DOCKER_BUILDKIT: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
      if (log) for (const line of chunk.split("\n")) if (line.trim()) log(line);
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) resolve(out);
      else {
        const last = `${out}${err}`.trimEnd().split("\n").slice(-20).join("\n");
        reject(new Error(`docker ${args.join(" ")} failed (exit ${code}):\n${last}`));
      }
    });
  });
}

/** `node:24-slim` from the tar tools/node/base-image.sh made (see docs/real-node.md). */
export async function importBaseImage(host: string, tar: string): Promise<void> {
  await docker(host, [
    "import",
    "--change",
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "--change",
    "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt",
    "--change",
    'CMD ["node"]',
    tar,
    "node:24-slim",
  ]);
}

/**
 * The pod sandbox image: the pause program of our Kubernetes version in an empty image, pushed
 * to the local registry for containerd to pull as it pulls every other image.
 */
export async function pushPauseImage(
  host: string,
  dir: string,
  pauseBinary: string,
  image: string,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await copyFile(pauseBinary, join(dir, "pause"));
  await writeFile(
    join(dir, "Dockerfile"),
    'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n',
  );
  await docker(host, ["build", "--quiet", "-t", image, dir]);
  await docker(host, ["push", "--quiet", image]);
}
