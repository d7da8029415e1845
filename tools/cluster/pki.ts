import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Paths of the per-run certificates and keys of a local control plane. */
export interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  /** Client certificate in group system:masters, for the admin kubeconfig and the components. */
  adminCert: string;
  adminKey: string;
  /** Signs and verifies ServiceAccount tokens. */
  serviceAccountKey: string;
  serviceAccountPub: string;
  /** Aggregation layer: a CA of its own, and the client certificate the apiserver proxies with. */
  frontProxyCaCert: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  /** With opts.nodeName: the kubelet's client certificate (group system:nodes), for the Node authorizer. */
  nodeCert?: string;
  nodeKey?: string;
}

export interface PkiOptions {
  /** More names for the serving certificate, e.g. "IP:198.18.0.1" (a real node reaches the apiserver there). */
  extraServingNames?: string[];
  /** A real node's name: also makes the kubelet's client certificate system:node:<name>. */
  nodeName?: string;
}

/** Common name of the front-proxy client, the one name the apiserver accepts there. */
export const frontProxyClientName = "front-proxy-client";

/** Names the apiserver's serving certificate answers to, on this machine and in the cluster. */
const servingNames = [
  "IP:127.0.0.1",
  "IP:10.96.0.1",
  "DNS:localhost",
  "DNS:kubernetes",
  "DNS:kubernetes.default",
  "DNS:kubernetes.default.svc",
  "DNS:kubernetes.default.svc.cluster.local",
];

/**
 * Generates a throwaway CA, the apiserver's serving certificate, an admin client certificate,
 * the front-proxy CA and client certificate, and the ServiceAccount signing key into dir, with the openssl command line (EC P-256: fast
 * to generate, accepted by every component). Valid for a week: a run never lasts longer.
 */
export async function generatePki(dir: string, opts: PkiOptions = {}): Promise<Pki> {
  // An empty config, so no extension comes from the system's openssl.cnf (which marks every
  // self-signed certificate as a CA); each certificate gets exactly the extensions given here.
  const config = join(dir, "openssl.cnf");
  await writeFile(config, "[req]\ndistinguished_name = dn\n[dn]\n");
  const openssl = async (args: string[]) => {
    try {
      await execFileAsync("openssl", args, { cwd: dir });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === "ENOENT") {
        throw new Error("openssl not found on PATH (Debian/Ubuntu: apt-get install openssl)");
      }
      throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
    }
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc"];
  const days = ["-days", "7"];

  const ca = (name: string) =>
    openssl([
      "req",
      "-config",
      config,
      "-x509",
      ...ec,
      ...days,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-subj",
      `/CN=swell-test-${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
  const leaf = (
    name: string,
    subject: string,
    usage: "serverAuth" | "clientAuth",
    san?: string,
    issuer = "ca",
  ) =>
    openssl([
      "req",
      "-config",
      config,
      "-x509",
      "-CA",
      `${issuer}.crt`,
      "-CAkey",
      `${issuer}.key`,
      ...ec,
      ...days,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-subj",
      subject,
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "keyUsage=critical,digitalSignature",
      "-addext",
      `extendedKeyUsage=${usage}`,
      ...(san ? ["-addext", `subjectAltName=${san}`] : []),
    ]);
  await ca("ca");
  await ca("front-proxy-ca");
  const names = [...servingNames, ...(opts.extraServingNames ?? [])];
  await leaf("apiserver", "/CN=kube-apiserver", "serverAuth", names.join(","));
  if (opts.nodeName) {
    await leaf("node", `/O=system:nodes/CN=system:node:${opts.nodeName}`, "clientAuth");
  }
  await leaf("admin", "/O=system:masters/CN=swell-admin", "clientAuth");
  await leaf(
    "front-proxy-client",
    `/CN=${frontProxyClientName}`,
    "clientAuth",
    undefined,
    "front-proxy-ca",
  );
  await openssl([
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    "sa.key",
  ]);
  await openssl(["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);

  const at = (file: string) => join(dir, file);
  return {
    caCert: at("ca.crt"),
    caKey: at("ca.key"),
    servingCert: at("apiserver.crt"),
    servingKey: at("apiserver.key"),
    adminCert: at("admin.crt"),
    adminKey: at("admin.key"),
    serviceAccountKey: at("sa.key"),
    serviceAccountPub: at("sa.pub"),
    frontProxyCaCert: at("front-proxy-ca.crt"),
    frontProxyClientCert: at("front-proxy-client.crt"),
    frontProxyClientKey: at("front-proxy-client.key"),
    ...(opts.nodeName ? { nodeCert: at("node.crt"), nodeKey: at("node.key") } : {}),
  };
}
