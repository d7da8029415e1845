// Faults of the controller on Kubernetes: SIGKILL in the middle of deciding, and the API server
// unreachable for 30 s. The controller reaches the API server through a TCP proxy this test
// starts and stops (connections refused while it is stopped, open ones cut), so only this
// controller loses the API; the test itself watches the Deployment directly.
import { readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyControllerRbac,
  type ControllerProcess,
  createPolicy,
  createWorkload,
  deploymentReplicas,
  installCrd,
  readyPods,
  reportAsPods,
  startController,
  tempDir,
  workloadView,
} from "./controller-harness.ts";
import { adminKubeConfig, createTestNamespace, waitFor } from "./kube.ts";

/** A TCP proxy on 127.0.0.1 to `target`; `stop()` cuts it off (refused), `start()` restores it. */
class TcpProxy {
  port = 0;
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.#target.port, this.#target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on("close", () => this.#sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

let kc: KubeConfig;
let ns: string;
let proxy: TcpProxy;
let kubeconfig = "";
let controller: ControllerProcess;
let demand = 30;
let reports: ReturnType<typeof reportAsPods>;
const cleanup: (() => Promise<unknown>)[] = [];

/** The Deployment's spec.replicas, sampled every 200 ms for `ms`: the lowest seen. */
async function lowestFor(ms: number): Promise<number> {
  let lowest = Number.POSITIVE_INFINITY;
  for (const until = Date.now() + ms; Date.now() < until; await sleep(200)) {
    lowest = Math.min(lowest, (await deploymentReplicas(kc, ns, "web")).spec ?? 0);
  }
  return lowest;
}

beforeAll(async () => {
  kc = adminKubeConfig();
  await installCrd(kc);
  const created = await createTestNamespace(kc, "faults");
  ns = created.name;
  cleanup.push(created.remove);
  const tmp = await tempDir();
  cleanup.push(tmp.remove);
  const direct = await applyControllerRbac(kc, ns, tmp.dir);
  const server = new URL(kc.getCurrentCluster()?.server ?? "");
  proxy = new TcpProxy({ host: server.hostname, port: Number(server.port) });
  await proxy.start();
  cleanup.push(() => proxy.stop());
  // The same ServiceAccount kubeconfig, through the proxy (the certificate names 127.0.0.1).
  kubeconfig = `${tmp.dir}/through-proxy.kubeconfig`;
  const config = JSON.parse(await readFile(direct, "utf8"));
  config.clusters[0].cluster.server = `https://127.0.0.1:${proxy.port}`;
  await writeFile(kubeconfig, JSON.stringify(config), { mode: 0o600 });

  controller = await startController({ name: "swell-controller-0", namespace: ns, kubeconfig });
  cleanup.push(() => controller.stop());
  await createWorkload(kc, ns, "web", 1);
  await readyPods(kc, ns, "web", 1);
  // 30 requests/s at 10 per pod: 3 replicas, with scale-down at once if the data said so.
  await createPolicy(kc, ns, "web", {
    target: "web",
    minReplicas: 1,
    maxReplicas: 5,
    averageValue: 10,
    extra: { behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } },
  });
  reports = reportAsPods(
    kc,
    ns,
    "web",
    () => controller.url,
    () => demand,
  );
  cleanup.push(() => reports.stop());
  await waitFor(
    "web at 3 replicas",
    async () => (await deploymentReplicas(kc, ns, "web")).spec === 3,
    60_000,
  );
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

describe("the controller on Kubernetes, under faults", () => {
  it("SIGKILLed while deciding: the next one reads /scale, holds 3 replicas (no scale-down on missing reports) and decides again", async () => {
    controller.child.kill("SIGKILL");
    await controller.exited;
    const killedAt = Date.now();
    controller = await startController({ name: "swell-controller-1", namespace: ns, kubeconfig });
    // It must wait out the dead one's Lease (3 s), then start with no reports in memory.
    const lowest = await lowestFor(8000);
    const view = await waitFor(
      "the new controller leading, with the pods reporting again",
      async () => {
        const v = await workloadView(controller.url, ns, "web");
        return v.leader === "swell-controller-1" && v.pods.reporting >= 3 ? v : undefined;
      },
      30_000,
    );
    console.log(
      JSON.stringify({ fault: "SIGKILL", lowest, recoveredAfterMs: Date.now() - killedAt }),
    );
    expect(lowest).toBe(3);
    expect(view.currentReplicas).toBe(3);
    demand = 40;
    await waitFor(
      "web at 4 replicas",
      async () => (await deploymentReplicas(kc, ns, "web")).spec === 4,
      30_000,
    );
  });

  it("the API server unreachable for 30 s: it stays up, writes nothing, and scales again once it is back", async () => {
    await readyPods(kc, ns, "web", 4);
    await proxy.stop();
    const cutAt = Date.now();
    // Demand falls during the outage: a controller that acted on missing data, or on a stale
    // read, would have nothing to write with; it must not crash or wedge either.
    demand = 10;
    let lowest = Number.POSITIVE_INFINITY;
    let alive = true;
    while (Date.now() - cutAt < 30_000) {
      lowest = Math.min(lowest, (await deploymentReplicas(kc, ns, "web")).spec ?? 0);
      alive &&= (await fetch(`${controller.url}/healthz`)).status === 200;
      await sleep(500);
    }
    expect(alive).toBe(true);
    expect(controller.child.exitCode).toBeNull();
    expect(lowest).toBe(4);
    const statusesDuring = Object.fromEntries(reports.statuses);
    await proxy.start();
    const backAt = Date.now();
    // Back: it takes the Lease again, reads the target and acts on the fresh demand (1 replica).
    await waitFor(
      "web down to 1 replica",
      async () => (await deploymentReplicas(kc, ns, "web")).spec === 1,
      60_000,
    );
    console.log(
      JSON.stringify({
        fault: "apiserver unreachable 30 s",
        lowestDuring: lowest,
        reportStatuses: statusesDuring,
        recoveredAfterMs: Date.now() - backAt,
      }),
    );
    // Reports refused while tokens could not be checked were 503s (retried), never 401 or 403.
    expect(reports.statuses.get(401) ?? 0).toBe(0);
    expect(reports.statuses.get(403) ?? 0).toBe(0);
  });
});
