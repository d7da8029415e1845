// What the controller's main wires in a cluster. main.ts imports this module only for the
// kubernetes backend, so the memory backend never loads the Kubernetes client.
import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";

export { startMetricsApi } from "../metrics-api/serve.ts";
export { apiDiscovery } from "./discovery.ts";
export { eventRecorder } from "./events.ts";
export { forwardReportsToLeader } from "./forward.ts";
export { LeaseLock } from "./lease.ts";
export { mayReportAsOwnPod, podOwnership } from "./ownership.ts";
export { guardPrescale } from "./prescale-guard.ts";
export { kubernetesScaleBackend } from "./scale-backend.ts";
export { StatusWriter } from "./status-writer.ts";
export { tokenReviewAuth } from "./token-review.ts";
export { PolicyWatch } from "./watch.ts";

const IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** The API server and credentials: KUBECONFIG, else ~/.kube/config, else the pod's ServiceAccount. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** The namespace of the pod this runs in, when it runs in one. */
export function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
