import { describe, expect, it } from "vitest";
import { namesRunDir } from "../../../../tools/node/cleanup.ts";

const RUN = "/tmp/swell-node";

describe("namesRunDir: which leftover processes a node cleanup kills", () => {
  it.each([
    [["dockerd", "--data-root=/tmp/swell-node/docker"], "/", true],
    [
      ["containerd-shim-runc-v2", "-address", "/tmp/swell-node/containerd/containerd.sock"],
      "/",
      true,
    ],
    [["registry", "serve", "/tmp/swell-node/registry/config.yml"], "/", true],
    [["sleep", "1"], "/tmp/swell-node/docker", true],
    [["kubelet", "--root-dir", "/tmp/swell-node"], "/", true],
    [["dockerd", "--host=unix:///tmp/swell-node/docker/docker.sock"], "/", true],
    [["sh", "-c", "ls /tmp/swell-node && true"], "/", true],
    // Someone waiting for the node: the lock file's name starts like the run folder.
    [["flock", "/tmp/swell-node.lock", "npm", "run", "test:node"], "/work/wt/x", false],
    [["bash", "-c", "flock /tmp/swell-node.lock npm run test:node"], "/", false],
    [["ls", "/tmp/swell-node-other/x"], "/tmp/swell-nodeish", false],
    [["sleep", "1"], "/", false],
  ])("%j in %s: %s", (args, cwd, killed) => {
    expect(namesRunDir(args, cwd, RUN)).toBe(killed);
  });
});
