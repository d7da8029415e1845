import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceProcess, sample, startService } from "../../services/process.ts";
import { type AgentProcess, sendJobs, spawnAgent, waitFor } from "./harness.ts";

// The contract end to end: the agent's reports, as the real controller takes them.
const ROOT = path.resolve(import.meta.dirname, "../../../..");
const TOKEN = "agent-controller-test-token";

interface WorkloadView {
  pods: { known: number; reporting: number; notReady: number; unreachable: number };
  signals: Record<string, number>;
}

describe("agent → real controller", () => {
  let controller: ChildProcess;
  let controllerUrl = "";
  let worker: ServiceProcess;
  let agent: AgentProcess;

  const view = async (): Promise<WorkloadView> => {
    const res = await fetch(`${controllerUrl}/v1/workloads/default/worker`);
    expect(res.status).toBe(200);
    return (await res.json()) as WorkloadView;
  };

  beforeAll(async () => {
    controller = spawn(process.execPath, ["--import", "tsx", "sidecar/controller/main.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOST: "127.0.0.1",
        PORT: "0",
        SWELL_TOKEN: TOKEN,
        SWELL_POLICIES: "swell.local.yaml",
        SHUTDOWN_DELAY: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    controller.stdout?.setEncoding("utf8").on("data", (c: string) => {
      out += c;
    });
    controller.stderr?.setEncoding("utf8").on("data", (c: string) => {
      out += c;
    });
    controllerUrl = await waitFor(
      "the controller to listen",
      () => {
        if (controller.exitCode !== null) throw new Error(`controller exited: ${out}`);
        const line = out.split("\n").find((l) => l.includes('"controller listening"'));
        return line ? String(JSON.parse(line).url) : undefined;
      },
      30_000,
    );
    worker = await startService("worker", { WORKER_CONCURRENCY: "8", QUEUE_CAPACITY: "1000" });
    agent = spawnAgent({
      SWELL_METRICS_URL: `${worker.url}/metrics`,
      SWELL_CONTROLLER_URL: controllerUrl,
      SWELL_WORKLOAD_NAME: "worker",
      SWELL_TOKEN: TOKEN,
    });
    await agent.url();
  });
  afterAll(async () => {
    await agent?.stop();
    await worker?.stop();
    if (controller && controller.exitCode === null) {
      controller.kill("SIGKILL");
      await once(controller, "exit");
    }
  });

  it("accepts every report: the workload shows the pod and the load it sees", async () => {
    await waitFor("the pod to be counted", async () => (await view()).pods.reporting === 1);
    const load = await sendJobs(worker.url, 30, 4000, 5);
    const v = await view();
    expect(v.pods).toMatchObject({ known: 1, reporting: 1, notReady: 0, unreachable: 0 });
    expect(v.signals.requestRate).toBeGreaterThan(load.rate * 0.6);
    expect(v.signals.requestRate).toBeLessThan(load.rate * 1.4);
    const text = await (await fetch(`${await agent.url()}/metrics`)).text();
    expect(sample(text, "swell_agent_reports_accepted_total")).toBeGreaterThan(3);
    expect(sample(text, 'swell_agent_report_failures_total{reason="refused"}')).toBe(0);
  });

  it("on SIGTERM the leaving report makes the controller forget the pod at once", async () => {
    agent.proc.kill("SIGTERM");
    expect((await agent.exited).code).toBe(0);
    const v = await view();
    expect(v.pods.known).toBe(0);
  });
});
