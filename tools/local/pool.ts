import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import type { Writable } from "node:stream";
import { AGENT_NODE_FLAGS } from "../../sidecar/agent/node-flags.ts";
import type { Balancer } from "./balancer.ts";
import { freePort } from "./ports.ts";

export interface PoolSpec {
  namespace: string;
  name: string;
  kind: string;
  /** The service's entry, e.g. services/worker/main.ts; run with this Node directly. */
  entry: string;
  /** The agent's entry, run beside each replica as its sidecar. */
  agentEntry: string;
  /** Extra environment for the service process. */
  env: Record<string, string>;
  /** Extra environment for the agent process (controller URL, token, …). */
  agentEnv: Record<string, string>;
  /** How long a replica may take to become ready before it is killed and replaced. */
  readyTimeoutMs: number;
  /** How long a draining replica may take before it is killed. */
  stopTimeoutMs: number;
}

// Replicas run their TypeScript entry directly where Node strips types itself (22.18+, 24):
// they are ready sooner than through tsx, and start time is the scaler's cold start. Older
// Nodes load tsx.
const TS_ARGS: string[] = (process.features as { typescript?: unknown }).typescript
  ? []
  : ["--import", "tsx"];

type ReplicaState = "starting" | "ready" | "draining";

interface Replica {
  id: string;
  port: number;
  /** The agent's own /metrics port. */
  agentPort: number;
  state: ReplicaState;
  app: ChildProcess;
  agent: ChildProcess;
  startedAt: number;
  exited: Promise<void>;
}

export interface PoolEvents {
  /** A replica became ready (startup latency in ms) or went away. */
  onReady?(id: string, startupMs: number): void;
  onGone?(id: string, why: string): void;
}

/**
 * Keeps `desired` replicas of one service running on this machine, like a ReplicaSet: each
 * replica is the service process plus its agent process. A replica joins the balancer only once
 * its /readyz answers 200, and leaves the balancer before it is sent SIGTERM, so a scale-down
 * drains instead of dropping requests. A replica that dies is replaced.
 */
export class ProcessPool {
  readonly spec: PoolSpec;
  readonly #balancer: Balancer;
  readonly #log: Writable;
  readonly #events: PoolEvents;
  readonly #replicas = new Map<string, Replica>();
  #desired = 0;
  #stopping = false;

  constructor(spec: PoolSpec, deps: { balancer: Balancer; log: Writable; events?: PoolEvents }) {
    this.spec = spec;
    this.#balancer = deps.balancer;
    this.#log = deps.log;
    this.#events = deps.events ?? {};
  }

  get desired(): number {
    return this.#desired;
  }

  get ready(): number {
    let n = 0;
    for (const r of this.#replicas.values()) if (r.state === "ready") n++;
    return n;
  }

  /** Replica ids and states, oldest first (for the status view and tests). */
  list(): { id: string; state: ReplicaState; port: number; agentPort: number }[] {
    return [...this.#replicas.values()].map((r) => ({
      id: r.id,
      state: r.state,
      port: r.port,
      agentPort: r.agentPort,
    }));
  }

  resize(n: number): void {
    if (this.#stopping) return;
    this.#desired = n;
    this.#reconcile();
  }

  /** Drains every replica and waits for all processes to exit. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#desired = 0;
    const all = [...this.#replicas.values()];
    for (const r of all) this.#drain(r);
    await Promise.all(all.map((r) => r.exited));
  }

  /** Kills every process now (a second Ctrl-C): nothing is left behind, nothing drains. */
  killAll(): void {
    this.#stopping = true;
    for (const r of this.#replicas.values()) {
      r.app.kill("SIGKILL");
      r.agent.kill("SIGKILL");
    }
  }

  #reconcile(): void {
    const live = [...this.#replicas.values()].filter((r) => r.state !== "draining");
    if (live.length < this.#desired) {
      for (let i = live.length; i < this.#desired; i++) void this.#start();
    } else if (live.length > this.#desired) {
      // Like a ReplicaSet: not-ready replicas go first, then the newest.
      const victims = live
        .sort(
          (a, b) =>
            Number(a.state === "ready") - Number(b.state === "ready") || b.startedAt - a.startedAt,
        )
        .slice(0, live.length - this.#desired);
      for (const r of victims) this.#drain(r);
    }
  }

  async #start(): Promise<void> {
    const id = `${this.spec.name}-${randomBytes(3).toString("hex")}`;
    const [port, agentPort] = await Promise.all([freePort(), freePort()]);
    const { spec } = this;
    const app = spawn(process.execPath, [...TS_ARGS, spec.entry], {
      env: { ...process.env, ...spec.env, HOST: "127.0.0.1", PORT: String(port), POD_NAME: id },
      stdio: ["ignore", "pipe", "pipe"],
      // Own process group: a terminal's Ctrl-C reaches the stack only, which drains replicas
      // in order (out of the balancer first), instead of every process at once.
      detached: true,
    });
    const agent = spawn(process.execPath, [...AGENT_NODE_FLAGS, ...TS_ARGS, spec.agentEntry], {
      env: {
        ...process.env,
        ...spec.agentEnv,
        HOST: "127.0.0.1",
        PORT: String(agentPort),
        SWELL_METRICS_URL: `http://127.0.0.1:${port}/metrics`,
        SWELL_READY_URL: `http://127.0.0.1:${port}/readyz`,
        SWELL_WORKLOAD_NAMESPACE: spec.namespace,
        SWELL_WORKLOAD_KIND: spec.kind,
        SWELL_WORKLOAD_NAME: spec.name,
        SWELL_POD_NAME: id,
        SWELL_POD_NAMESPACE: spec.namespace,
        SWELL_POD_UID: randomUUID(),
      },
      stdio: ["ignore", "pipe", "pipe"],
      // Own process group: a terminal's Ctrl-C reaches the stack only, which drains replicas
      // in order (out of the balancer first), instead of every process at once.
      detached: true,
    });
    for (const [proc, who] of [
      [app, id],
      [agent, `${id}/agent`],
    ] as const) {
      proc.stdout?.on("data", (b: Buffer) => this.#write(who, b));
      proc.stderr?.on("data", (b: Buffer) => this.#write(who, b));
    }
    const exited = Promise.all([exitOf(app), exitOf(agent)]).then(() => undefined);
    const r: Replica = {
      id,
      port,
      agentPort,
      state: "starting",
      app,
      agent,
      startedAt: Date.now(),
      exited,
    };
    this.#replicas.set(id, r);

    app.once("exit", (code, sig) => {
      if (r.state !== "draining") {
        // Died on its own: out of rotation, agent stopped, and replaced.
        this.#balancer.remove(id);
        agent.kill("SIGTERM");
        this.#events.onGone?.(id, `exited (${sig ?? code})`);
      }
      void exited.then(() => {
        this.#replicas.delete(id);
        if (r.state !== "draining") this.#reconcile();
      });
    });

    const ready = await waitReady(port, spec.readyTimeoutMs, () => r.app.exitCode !== null);
    if (r.state !== "starting") return; // drained or died while starting
    if (!ready) {
      this.#write(id, Buffer.from(`not ready after ${spec.readyTimeoutMs} ms; replacing\n`));
      this.#drain(r);
      void exited.then(() => this.#reconcile());
      return;
    }
    r.state = "ready";
    this.#balancer.add({ id, port });
    this.#events.onReady?.(id, Date.now() - r.startedAt);
  }

  #drain(r: Replica): void {
    if (r.state === "draining") return;
    r.state = "draining";
    this.#balancer.remove(r.id);
    r.app.kill("SIGTERM");
    // The agent outlives its app briefly so its last report says the pod is leaving.
    void exitOf(r.app).then(() => r.agent.kill("SIGTERM"));
    const killer = setTimeout(() => {
      r.app.kill("SIGKILL");
      r.agent.kill("SIGKILL");
    }, this.spec.stopTimeoutMs);
    void r.exited.then(() => clearTimeout(killer));
    this.#events.onGone?.(r.id, "drained");
  }

  #write(who: string, b: Buffer): void {
    for (const line of b.toString().split("\n")) if (line) this.#log.write(`${who} ${line}\n`);
  }
}

function exitOf(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => p.once("exit", () => resolve()));
}

async function waitReady(port: number, timeoutMs: number, dead: () => boolean): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !dead()) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, {
        signal: AbortSignal.timeout(500),
      });
      await res.body?.cancel();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
