import { readFile, writeFile } from "node:fs/promises";

export interface KubeconfigUser {
  /** PEM client certificate and key (files are read and embedded). */
  clientCertFile?: string;
  clientKeyFile?: string;
  /** Or a bearer token, e.g. a ServiceAccount token. */
  token?: string;
}

const b64 = async (file: string) => (await readFile(file)).toString("base64");

/**
 * Writes a self-contained kubeconfig (certificates embedded) for one cluster and one user.
 * JSON is valid YAML, so every Kubernetes client reads it.
 */
export async function writeKubeconfig(
  path: string,
  opts: { server: string; caFile: string; user: KubeconfigUser; name?: string },
): Promise<void> {
  const name = opts.name ?? "swell-test";
  const user: Record<string, string> = {};
  if (opts.user.clientCertFile)
    user["client-certificate-data"] = await b64(opts.user.clientCertFile);
  if (opts.user.clientKeyFile) user["client-key-data"] = await b64(opts.user.clientKeyFile);
  if (opts.user.token) user.token = opts.user.token;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name,
        cluster: { server: opts.server, "certificate-authority-data": await b64(opts.caFile) },
      },
    ],
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
