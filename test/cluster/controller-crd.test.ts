// The ScalingPolicy CRD as k8s/ ships it: installs, stores a valid policy with its defaults, and
// the API server itself refuses invalid ones (structural schema generated from the zod schema).
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP, installCrd, PLURAL, policyBody, VERSION } from "./controller-harness.ts";
import { adminKubeConfig, apiStatus, createTestNamespace } from "./kube.ts";

let kc: KubeConfig;
let ns: string;
let removeNamespace: () => Promise<void>;

beforeAll(async () => {
  kc = adminKubeConfig();
  await installCrd(kc);
  const created = await createTestNamespace(kc, "crd");
  ns = created.name;
  removeNamespace = created.remove;
});
afterAll(async () => {
  await removeNamespace?.();
});

const create = (name: string, body: object) =>
  kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural: PLURAL,
    body: { ...body, metadata: { name } },
  });

const valid = policyBody("x", { target: "web", minReplicas: 1, maxReplicas: 5 });

describe("the ScalingPolicy CRD", () => {
  it("stores a valid policy and fills in the schema's defaults", async () => {
    const stored = (await create("ok", valid)) as { spec: Record<string, unknown> };
    expect(stored.spec.mode).toBe("enforce");
    expect(stored.spec.windowSeconds).toBe(10);
  });

  it.each([
    ["maxReplicas 0", { maxReplicas: 0 }],
    ["an unknown signal", { metrics: [{ name: "bogus", averageValue: 1 }] }],
    ["no metrics", { metrics: [] }],
    ["a negative averageValue", { metrics: [{ name: "requestRate", averageValue: -1 }] }],
    ["a mode that does not exist", { mode: "sometimes" }],
    [
      "a rate policy type that does not exist",
      { behavior: { scaleUp: { policies: [{ type: "Nodes", value: 1, periodSeconds: 15 }] } } },
    ],
    [
      "a schedule time out of range",
      { prescale: { schedules: [{ name: "a", start: "25:00", end: "26:00", replicas: 2 }] } },
    ],
  ])("is refused by the API server with 422 for %s", async (_what, change) => {
    const body = { ...valid, spec: { ...valid.spec, ...change } };
    const status = await create(`bad-${Math.random().toString(36).slice(2, 8)}`, body).then(
      () => 201,
      (err: unknown) => apiStatus(err),
    );
    expect(status).toBe(422);
  });

  it("is refused without a targetRef", async () => {
    const { targetRef: _, ...spec } = valid.spec;
    const status = await create("no-target", { ...valid, spec }).then(
      () => 201,
      (err: unknown) => apiStatus(err),
    );
    expect(status).toBe(422);
  });
});
