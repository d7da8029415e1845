import { X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";

/** Who the API server says is asking (it proxies with the front-proxy client certificate). */
export interface User {
  name: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** What `kube-system/extension-apiserver-authentication` says about the front proxy. */
export interface RequestHeaderConfig {
  /** PEM of the CA(s) that sign the front-proxy client certificate. */
  clientCa: string;
  /** Common names the front-proxy certificate may have; empty: any the CA signed. */
  allowedNames: string[];
  usernameHeaders: string[];
  groupHeaders: string[];
  extraPrefixes: string[];
}

const AUTHENTICATED = "system:authenticated";
const CONFIG_MAP = { namespace: "kube-system", name: "extension-apiserver-authentication" };

/** Reads the requestheader settings the API server publishes for extension API servers. */
export async function loadRequestHeaderConfig(kc: KubeConfig): Promise<RequestHeaderConfig> {
  const cm = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap(CONFIG_MAP);
  const data = cm.data ?? {};
  const clientCa = data["requestheader-client-ca-file"];
  if (!clientCa) {
    throw new Error(
      `${CONFIG_MAP.namespace}/${CONFIG_MAP.name} has no requestheader-client-ca-file: the API server runs without the aggregation layer (--requestheader-client-ca-file)`,
    );
  }
  const list = (key: string): string[] => {
    const v = data[key];
    return v ? (JSON.parse(v) as string[]) : [];
  };
  return {
    clientCa,
    allowedNames: list("requestheader-allowed-names"),
    usernameHeaders: list("requestheader-username-headers"),
    groupHeaders: list("requestheader-group-headers"),
    extraPrefixes: list("requestheader-extra-headers-prefix"),
  };
}

/**
 * Delegated authentication the way the API server's aggregation layer expects: a request counts
 * only when its TLS client certificate was signed by the requestheader CA (the TLS server asks for
 * it and checks the chain) and names an allowed proxy; then the user is whom the proxy's headers
 * name. Anything else (no certificate, another CA, headers sent by anyone else) is nobody.
 */
export function requestHeaderAuthenticator(
  config: RequestHeaderConfig,
): (req: IncomingMessage) => User | undefined {
  const cas = splitPem(config.clientCa).map((pem) => new X509Certificate(pem));
  return (req) => {
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return undefined;
    const peer = socket.getPeerX509Certificate?.();
    if (!peer || !cas.some((ca) => peer.checkIssued(ca) && peer.verify(ca.publicKey))) {
      return undefined;
    }
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(peer.subject)?.[1];
    if (config.allowedNames.length > 0 && (!cn || !config.allowedNames.includes(cn))) {
      return undefined;
    }
    const headers = req.headersDistinct;
    const first = (names: string[]) =>
      names.map((n) => headers[n.toLowerCase()]?.[0]).find((v) => v !== undefined && v !== "");
    const name = first(config.usernameHeaders);
    if (!name) return undefined;
    const groups = config.groupHeaders.flatMap((n) => headers[n.toLowerCase()] ?? []);
    // As every API server does: whoever authenticated is in system:authenticated (RBAC's
    // discovery rules are bound to it; the aggregator asks for discovery with no group at all).
    if (!groups.includes(AUTHENTICATED)) groups.push(AUTHENTICATED);
    const extra: Record<string, string[]> = {};
    for (const [header, values] of Object.entries(headers)) {
      for (const prefix of config.extraPrefixes) {
        const p = prefix.toLowerCase();
        if (header.startsWith(p) && values) {
          extra[decodeURIComponent(header.slice(p.length))] = values;
        }
      }
    }
    return { name, groups, extra };
  };
}

/** The certificates of a PEM bundle, one PEM each. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
