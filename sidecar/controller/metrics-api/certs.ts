import { generateKeyPairSync, randomBytes, X509Certificate } from "node:crypto";
import {
  ApiregistrationV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1Secret,
} from "@kubernetes/client-node";
import forge from "node-forge";
import { apiMessage, apiStatus } from "../kubernetes/errors.ts";

export interface ServingCertificate {
  /** PEM */
  cert: string;
  key: string;
  ca: string;
}

const DAY_MS = 86_400_000;

/** DNS names the API server may dial the Service by. */
export function serviceNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

/** A key pair made by Node's native crypto (fast), in forge's form for signing certificates. */
function keyPair() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const key = forge.pki.privateKeyFromPem(pem);
  return { pem, key, pub: forge.pki.setRsaPublicKey(key.n, key.e) };
}

function certificate(
  subject: string,
  publicKey: forge.pki.PublicKey,
  now: Date,
  days: number,
  extensions: object[],
) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(15).toString("hex")}`;
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
  cert.setSubject([{ name: "commonName", value: subject }]);
  cert.setExtensions(extensions);
  return cert;
}

/**
 * A new CA (10 years) and a serving certificate it signs for the Service's names (1 year). The
 * CA's key is not kept: a renewal makes a new CA, and the APIServices get it.
 */
export function generateServingCertificate(names: string[], now = new Date()): ServingCertificate {
  const caKeys = keyPair();
  const ca = certificate(
    `swell-metrics-api-ca-${Math.floor(now.getTime() / 1000)}`,
    caKeys.pub,
    now,
    3650,
    [
      { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  );
  ca.setIssuer(ca.subject.attributes);
  ca.sign(caKeys.key, forge.md.sha256.create());
  const keys = keyPair();
  const leaf = certificate(names[0] ?? "swell-metrics-api", keys.pub, now, 365, [
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: names.map((value) => ({ type: 2, value })) },
  ]);
  leaf.setIssuer(ca.subject.attributes);
  leaf.sign(caKeys.key, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(leaf),
    key: keys.pem,
    ca: forge.pki.certificateToPem(ca),
  };
}

/** Whether a stored certificate serves these names for at least another 30 days. */
export function stillGood(stored: ServingCertificate, names: string[], now = Date.now()): boolean {
  try {
    const cert = new X509Certificate(stored.cert);
    if (!cert.verify(new X509Certificate(stored.ca).publicKey)) return false;
    if (new Date(cert.validTo).getTime() - now < 30 * DAY_MS) return false;
    return names.every((n) => cert.checkHost(n, { subject: "never" }) !== undefined);
  } catch {
    return false;
  }
}

const fromSecret = (s: V1Secret): ServingCertificate | undefined => {
  const d = s.data ?? {};
  const get = (k: string) => (d[k] ? Buffer.from(d[k], "base64").toString("utf8") : undefined);
  const cert = get("tls.crt");
  const key = get("tls.key");
  const ca = get("ca.crt");
  return cert && key && ca ? { cert, key, ca } : undefined;
};

const secretData = (c: ServingCertificate) => ({
  "tls.crt": Buffer.from(c.cert).toString("base64"),
  "tls.key": Buffer.from(c.key).toString("base64"),
  "ca.crt": Buffer.from(c.ca).toString("base64"),
});

/**
 * The serving certificate every replica shares, kept in a Secret: taken when it is still good
 * for the Service's names, else made anew and written (the first replica to write wins; the
 * others read what it wrote).
 */
export async function provisionServingCertificate(
  kc: KubeConfig,
  opts: {
    namespace: string;
    secret: string;
    service: string;
    log: { info(obj: object, msg: string): void };
  },
): Promise<ServingCertificate> {
  const core = kc.makeApiClient(CoreV1Api);
  const names = serviceNames(opts.service, opts.namespace);
  const { namespace, secret: name } = opts;
  let current: V1Secret | undefined;
  try {
    current = await core.readNamespacedSecret({ name, namespace });
  } catch (err) {
    if (apiStatus(err) !== 404)
      throw new Error(`cannot read Secret ${namespace}/${name}: ${apiMessage(err)}`);
  }
  let serving = current && fromSecret(current);
  if (!serving || !stillGood(serving, names)) {
    const fresh = generateServingCertificate(names);
    const body: V1Secret = {
      metadata: { name, namespace, labels: { "app.kubernetes.io/name": "swell-controller" } },
      type: "kubernetes.io/tls",
      data: secretData(fresh),
    };
    try {
      if (current) {
        body.metadata = { ...body.metadata, resourceVersion: current.metadata?.resourceVersion };
        await core.replaceNamespacedSecret({ name, namespace, body });
      } else {
        await core.createNamespacedSecret({ namespace, body });
      }
      serving = fresh;
      opts.log.info(
        { secret: `${namespace}/${name}`, names },
        "metrics API serving certificate made",
      );
    } catch (err) {
      // Another replica wrote it first: use that one, so every replica serves the same CA.
      if (apiStatus(err) !== 409)
        throw new Error(`cannot write Secret ${namespace}/${name}: ${apiMessage(err)}`);
      const theirs = fromSecret(await core.readNamespacedSecret({ name, namespace }));
      if (!theirs) throw new Error(`Secret ${namespace}/${name} holds no certificate`);
      serving = theirs;
    }
  }
  return serving;
}

/**
 * Gives each named APIService the CA as caBundle, so the API server verifies the controller
 * without insecureSkipTLSVerify. Called once the listener is up: the change makes the API server
 * check the APIService again at once.
 */
export async function setCaBundle(
  kc: KubeConfig,
  ca: string,
  apiServices: string[],
  log: { info(obj: object, msg: string): void },
): Promise<void> {
  const registration = kc.makeApiClient(ApiregistrationV1Api);
  const caBundle = Buffer.from(ca).toString("base64");
  for (const apiService of apiServices) {
    // Both replicas may write at once: a conflict is read again (and is then usually done).
    for (let attempt = 1; ; attempt++) {
      try {
        const a = await registration.readAPIService({ name: apiService });
        if (a.spec?.caBundle === caBundle) break;
        const spec = { groupPriorityMinimum: 100, versionPriority: 100, ...a.spec, caBundle };
        await registration.replaceAPIService({ name: apiService, body: { ...a, spec } });
        log.info({ apiService }, "APIService caBundle set");
        break;
      } catch (err) {
        if (apiStatus(err) === 409 && attempt < 3) continue;
        throw new Error(`cannot set the caBundle of APIService ${apiService}: ${apiMessage(err)}`);
      }
    }
  }
}
