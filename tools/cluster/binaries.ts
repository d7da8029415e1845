import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { join } from "node:path";

export const componentNames = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
] as const;

const buildScript = new URL("./build.sh", import.meta.url).pathname;

/**
 * The folder with the control-plane binaries: tools/cluster/build.sh builds them when they are
 * not cached yet (its progress shows on stderr) and prints the folder. SWELL_CLUSTER_BIN
 * names a folder of prebuilt binaries instead.
 */
export async function ensureBinaries(): Promise<string> {
  const dir =
    process.env.SWELL_CLUSTER_BIN || (await runBuildScript(buildScript, "the cluster binaries"));
  const missing: string[] = [];
  for (const name of [...componentNames, "kwok-stages.yaml"]) {
    try {
      await access(join(dir, name), name.endsWith(".yaml") ? constants.R_OK : constants.X_OK);
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `cluster binaries missing in ${dir}: ${missing.join(", ")} (build them with: npm run cluster:build)`,
    );
  }
  return dir;
}

/**
 * Runs a build script of ours (progress on stderr) and resolves with the last line it prints
 * on stdout: the folder or file it built or found cached.
 */
export function runBuildScript(script: string, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // The build must not see SWELL_TEST_KUBECONFIG: we are here because a local cluster is wanted.
    const env = { ...process.env, SWELL_TEST_KUBECONFIG: "" };
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "inherit"], env });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const dir = out.trim().split("\n").at(-1) ?? "";
      if (code === 0 && dir) resolve(dir);
      else reject(new Error(`building ${what} failed (${script}, exit ${code})`));
    });
  });
}
