// The wire shapes of custom.metrics.k8s.io (v1beta1, v1beta2) and external.metrics.k8s.io
// (v1beta1), as k8s.io/metrics defines them, built from swell's fresh signals. Pure.
import { SIGNAL_NAMES, type SignalName } from "../../protocol/signals.ts";

export const CUSTOM_GROUP = "custom.metrics.k8s.io";
export const EXTERNAL_GROUP = "external.metrics.k8s.io";
export const CUSTOM_VERSIONS = ["v1beta2", "v1beta1"] as const;
export type CustomVersion = (typeof CUSTOM_VERSIONS)[number];

/** Kinds of scaled objects served as objects: `deployments.apps/{name}/{signal}`, … */
export const OBJECT_RESOURCES: Record<string, string> = {
  "deployments.apps": "Deployment",
  "statefulsets.apps": "StatefulSet",
  "replicasets.apps": "ReplicaSet",
};

export function isSignal(name: string): name is SignalName {
  return (SIGNAL_NAMES as string[]).includes(name);
}

/**
 * A Kubernetes quantity: integers as they are, anything else in milli-units (what the HPA
 * compares to its targets), e.g. 12.5 → "12500m".
 */
export function quantity(v: number): string {
  const milli = Math.round(v * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** The resources discovery lists: every signal, for pods and each scaled kind (custom), or alone. */
export function resourceList(group: string, version: string) {
  const custom = group === CUSTOM_GROUP;
  const names = custom
    ? ["pods", ...Object.keys(OBJECT_RESOURCES)].flatMap((r) =>
        SIGNAL_NAMES.map((s) => `${r}/${s}`),
      )
    : [...SIGNAL_NAMES];
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${group}/${version}`,
    resources: names.map((name) => ({
      name,
      singularName: "",
      namespaced: true,
      kind: custom ? "MetricValueList" : "ExternalMetricValueList",
      verbs: ["get"],
    })),
  };
}

export interface DescribedObject {
  kind: string;
  namespace: string;
  name: string;
  apiVersion: string;
}

export interface Sample {
  object: DescribedObject;
  /** ms since the epoch */
  at: number;
  windowMs: number;
  value: number;
}

/** A MetricValueList of one signal, in the shape of the version asked for. */
export function metricValueList(version: CustomVersion, metric: string, samples: Sample[]) {
  return {
    kind: "MetricValueList",
    apiVersion: `${CUSTOM_GROUP}/${version}`,
    metadata: {},
    items: samples.map((s) => {
      const common = {
        describedObject: s.object,
        timestamp: new Date(s.at).toISOString(),
        value: quantity(s.value),
      };
      const windowSeconds = Math.max(1, Math.round(s.windowMs / 1000));
      return version === "v1beta2"
        ? { ...common, metric: { name: metric, selector: null }, windowSeconds }
        : { ...common, metricName: metric, window: windowSeconds, selector: null };
    }),
  };
}

export interface ExternalSample {
  labels: Record<string, string>;
  at: number;
  windowMs: number;
  value: number;
}

export function externalValueList(metric: string, samples: ExternalSample[]) {
  return {
    kind: "ExternalMetricValueList",
    apiVersion: `${EXTERNAL_GROUP}/v1beta1`,
    metadata: {},
    items: samples.map((s) => ({
      metricName: metric,
      metricLabels: s.labels,
      timestamp: new Date(s.at).toISOString(),
      window: Math.max(1, Math.round(s.windowMs / 1000)),
      value: quantity(s.value),
    })),
  };
}

export type StatusReason =
  | "NotFound"
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "ServiceUnavailable";

/** A Kubernetes Status, what an API server answers a failed request with. */
export function status(code: number, reason: StatusReason, message: string) {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  };
}
