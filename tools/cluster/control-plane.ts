import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, type V1Node } from "@kubernetes/client-node";
import { writeKubeconfig } from "./kubeconfig.ts";
import { freePorts, httpsGet, type TlsClient } from "./net.ts";
import { frontProxyClientName, generatePki, type Pki } from "./pki.ts";
import { createSupervisor, type Supervisor } from "./processes.ts";

/** Issuer (and default API audience) of ServiceAccount tokens, as in a kubeadm cluster. */
export const serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local";

/** Annotation kwok selects the nodes it simulates by. */
const kwokNodeAnnotation = "kwok.x-k8s.io/node";

export interface ControlPlane {
  /** Per-run folder: certificates, etcd data, logs/ (one file per component). */
  dir: string;
  /** Admin kubeconfig (group system:masters), certificates embedded. */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  nodeNames: string[];
  /** The run's certificates (a real node signs in with pki.nodeCert). */
  pki: Pki;
  /** Stops every process (also on failure); removes dir unless keepDir. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Folder with etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok. */
  binDir: string;
  /** Fake nodes kwok simulates (default 3). */
  nodes?: number;
  /** Keep the per-run folder after stop, e.g. to read the logs. */
  keepDir?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Limit for the whole start (default 120 s: the apiserver is slow to start on 2 cores). */
  timeoutMs?: number;
  /**
   * For a real node (tools/node): the apiserver listens and advertises on address (the node's
   * own interface) instead of 127.0.0.1, Services get serviceCidr (serviceIp is its first
   * address, the `kubernetes` Service), and a client certificate for nodeName is made.
   */
  realNode?: { address: string; serviceCidr: string; serviceIp: string; nodeName: string };
}

/**
 * Starts a real control plane on 127.0.0.1, from binaries, the way envtest does, plus kwok to
 * simulate nodes: etcd, kube-apiserver, kube-controller-manager (Deployments, ReplicaSets,
 * the HPA, ServiceAccount tokens, garbage collection), kube-scheduler, kwok. Resolves once
 * every component is up, the nodes are Ready and the default ServiceAccount exists.
 */
export async function startControlPlane(opts: StartOptions): Promise<ControlPlane> {
  const log = opts.log ?? (() => {});
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const dir = await mkdtemp(join(tmpdir(), "swell-cluster-"));
  const logDir = join(dir, "logs");
  await mkdir(logDir);
  const supervisor = createSupervisor(logDir, {
    removeWhenAbandoned: opts.keepDir ? undefined : dir,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await supervisor.stopAll();
    if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    const started = await startAll(opts, dir, supervisor, deadline, log);
    return { dir, ...started, stop };
  } catch (err) {
    await supervisor.stopAll();
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`local control plane did not start: ${message}\n(logs kept in ${logDir})`);
  }
}

async function startAll(
  opts: StartOptions,
  dir: string,
  supervisor: Supervisor,
  deadline: number,
  log: (line: string) => void,
): Promise<Pick<ControlPlane, "kubeconfigPath" | "server" | "nodeNames" | "pki">> {
  const bin = (name: string) => join(opts.binDir, name);
  const sub = async (name: string) => {
    const path = join(dir, name);
    await mkdir(path, { recursive: true });
    return path;
  };
  const waitFor = (what: string, check: () => Promise<boolean>) =>
    poll(what, check, supervisor, deadline);

  log(`control plane: generating certificates in ${dir}`);
  const real = opts.realNode;
  const address = real?.address ?? "127.0.0.1";
  const pki = await generatePki(
    await sub("pki"),
    real
      ? { extraServingNames: [`IP:${address}`, `IP:${real.serviceIp}`], nodeName: real.nodeName }
      : {},
  );
  const ports = await freePorts(5);
  const port = (i: number) => ports[i] ?? 0;
  const etcdPort = port(0);
  const etcdPeerPort = port(1);
  const apiPort = port(2);
  const kcmPort = port(3);
  const schedulerPort = port(4);
  const server = `https://${address}:${apiPort}`;
  const kubeconfigPath = join(dir, "admin.kubeconfig");
  await writeKubeconfig(kubeconfigPath, {
    server,
    caFile: pki.caCert,
    user: { clientCertFile: pki.adminCert, clientKeyFile: pki.adminKey },
  });
  const admin: TlsClient = {
    ca: await readFile(pki.caCert),
    cert: await readFile(pki.adminCert),
    key: await readFile(pki.adminKey),
  };

  log("control plane: starting etcd");
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
  supervisor.start("etcd", bin("etcd"), [
    "--name=swell",
    `--data-dir=${await sub("etcd")}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=swell=${peerUrl}`,
    // Test data: durability is not worth an fsync per write.
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ]);
  await waitFor("etcd /health", async () => (await fetch(`${etcdUrl}/health`)).ok);

  log("control plane: starting kube-apiserver");
  supervisor.start("kube-apiserver", bin("kube-apiserver"), [
    `--etcd-servers=${etcdUrl}`,
    `--bind-address=${address}`,
    `--advertise-address=${address}`,
    `--secure-port=${apiPort}`,
    `--cert-dir=${await sub("kube-apiserver")}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-account-issuer=${serviceAccountIssuer}`,
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    // Tokens for the API carry this audience. Tokens for other audiences (swell's own) are
    // issued by TokenRequest and accepted by a TokenReview that names that audience.
    `--api-audiences=${serviceAccountIssuer}`,
    "--authorization-mode=Node,RBAC",
    `--service-cluster-ip-range=${real?.serviceCidr ?? "10.96.0.0/16"}`,
    // A real kubelet serves logs and exec only to this client (group system:masters).
    `--kubelet-client-certificate=${pki.adminCert}`,
    `--kubelet-client-key=${pki.adminKey}`,
    // A real node's name does not resolve on this machine; its address does.
    ...(real ? ["--kubelet-preferred-address-types=InternalIP"] : []),
    "--profiling=false",
    // The aggregation layer (APIService, e.g. a metrics API) and the components' delegated
    // authentication both read these.
    `--requestheader-client-ca-file=${pki.frontProxyCaCert}`,
    `--requestheader-allowed-names=${frontProxyClientName}`,
    "--requestheader-username-headers=X-Remote-User",
    "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    `--proxy-client-cert-file=${pki.frontProxyClientCert}`,
    `--proxy-client-key-file=${pki.frontProxyClientKey}`,
    // An APIService's Service is dialed at its endpoint's address, not its ClusterIP: there is
    // no kube-proxy here, and the tests' extension servers are local processes.
    "--enable-aggregator-routing=true",
  ]);
  await waitFor("kube-apiserver /readyz", async () => {
    const res = await httpsGet(`${server}/readyz`, admin);
    return res.status === 200;
  });

  const componentKubeconfig = [
    `--kubeconfig=${kubeconfigPath}`,
    `--authentication-kubeconfig=${kubeconfigPath}`,
    `--authorization-kubeconfig=${kubeconfigPath}`,
  ];
  log("control plane: starting kube-controller-manager, kube-scheduler, kwok");
  supervisor.start("kube-controller-manager", bin("kube-controller-manager"), [
    ...componentKubeconfig,
    "--bind-address=127.0.0.1",
    `--secure-port=${kcmPort}`,
    `--cert-dir=${await sub("kube-controller-manager")}`,
    "--leader-elect=false",
    // Each controller acts with its own ServiceAccount and RBAC, as in a real cluster.
    "--use-service-account-credentials=true",
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    "--cluster-name=swell-test",
    // Tests wait for the HPA controller; 5 s instead of 15 s keeps them short.
    "--horizontal-pod-autoscaler-sync-period=5s",
  ]);
  supervisor.start("kube-scheduler", bin("kube-scheduler"), [
    ...componentKubeconfig,
    "--bind-address=127.0.0.1",
    `--secure-port=${schedulerPort}`,
    `--cert-dir=${await sub("kube-scheduler")}`,
    "--leader-elect=false",
  ]);
  const nodeNames = Array.from({ length: opts.nodes ?? 3 }, (_, i) => `kwok-node-${i}`);
  if (nodeNames.length > 0)
    supervisor.start("kwok", bin("kwok"), [
      `--kubeconfig=${kubeconfigPath}`,
      `--config=${bin("kwok-stages.yaml")}`,
      `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation}=fake`,
      "--cidr=10.244.0.0/16",
      "--node-ip=127.0.0.1",
      "--node-lease-duration-seconds=40",
    ]);

  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of nodeNames) await core.createNode({ body: fakeNode(name) });
  log(`control plane: waiting for ${nodeNames.length} kwok nodes, the controllers, the scheduler`);

  const healthy = (port: number) => async () =>
    (await httpsGet(`https://127.0.0.1:${port}/healthz`, { insecure: true })).status === 200;
  await waitFor("kube-controller-manager /healthz", healthy(kcmPort));
  await waitFor("kube-scheduler /healthz", healthy(schedulerPort));
  await waitFor("kwok nodes Ready", async () => {
    const nodes = await core.listNode();
    return nodeNames.every((name) => {
      const node = nodes.items.find((n) => n.metadata?.name === name);
      return node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    });
  });
  // The ServiceAccount controller has run: pods can be admitted in the default namespace.
  await waitFor("ServiceAccount default/default", async () => {
    await core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
    return true;
  });
  log(`control plane: ready at ${server}`);
  return { kubeconfigPath, server, nodeNames, pki };
}

/** A node for kwok to simulate: roomy, schedulable, no taints (plain pods land on it). */
function fakeNode(name: string): V1Node {
  const resources = { cpu: "32", memory: "256Gi", pods: "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { [kwokNodeAnnotation]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        type: "kwok",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
      },
    },
    status: { capacity: resources, allocatable: resources },
  };
}

/**
 * Polls check every 250 ms until it returns true; an exception counts as "not yet". Fails at
 * the deadline with the last error, or at once when a component has ended.
 */
export async function poll(
  what: string,
  check: () => Promise<boolean>,
  supervisor: Supervisor,
  deadline: number,
): Promise<void> {
  let last = "";
  for (;;) {
    supervisor.assertRunning();
    try {
      if (await check()) return;
      last = "not yet";
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
