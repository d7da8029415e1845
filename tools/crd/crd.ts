import { API_VERSION, KIND, scalingPolicyJsonSchema } from "../../sidecar/protocol/policy.ts";

const [GROUP, VERSION] = API_VERSION.split("/") as [string, string];
export const PLURAL = "scalingpolicies";

// Status, shaped like the HPA's so `kubectl describe` readers know where to look.
const condition = {
  type: "object",
  required: ["type", "status"],
  properties: {
    type: { type: "string" },
    status: { type: "string", enum: ["True", "False", "Unknown"] },
    reason: { type: "string" },
    message: { type: "string" },
    lastTransitionTime: { type: "string", format: "date-time" },
  },
};
const statusSchema = {
  type: "object",
  properties: {
    observedGeneration: { type: "integer", format: "int64" },
    currentReplicas: { type: "integer", format: "int32" },
    readyReplicas: { type: "integer", format: "int32" },
    desiredReplicas: { type: "integer", format: "int32" },
    lastScaleTime: { type: "string", format: "date-time" },
    lastReason: { type: "string" },
    leader: { type: "string" },
    conditions: {
      type: "array",
      items: condition,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    },
  },
};

/** The ScalingPolicy CustomResourceDefinition; its spec schema is generated from the zod one. */
export function scalingPolicyCrd(): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: "scalingpolicy",
        shortNames: ["sp"],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Target", type: "string", jsonPath: ".spec.targetRef.name" },
            { name: "Min", type: "integer", jsonPath: ".spec.minReplicas" },
            { name: "Max", type: "integer", jsonPath: ".spec.maxReplicas" },
            { name: "Current", type: "integer", jsonPath: ".status.currentReplicas" },
            { name: "Desired", type: "integer", jsonPath: ".status.desiredReplicas" },
            { name: "Mode", type: "string", jsonPath: ".spec.mode" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              required: ["spec"],
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: scalingPolicyJsonSchema(),
                status: statusSchema,
              },
            },
          },
        },
      ],
    },
  };
}
