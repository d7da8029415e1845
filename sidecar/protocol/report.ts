import { z } from "zod";
import { SIGNAL_NAMES, type SignalName } from "./signals.ts";

/** Path of the report endpoint; the version is in the path so a v2 can live beside it. */
export const REPORTS_PATH = "/v1/reports";

/** Largest report body the controller reads. A real report is well under 2 KiB. */
export const MAX_REPORT_BYTES = 16 * 1024;

// The bounds and patterns below are the schema's; report-check.ts reads the same constants.

// Kubernetes object names (RFC 1123 subdomain for most kinds; DNS label for namespaces).
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const KIND_NAME = /^[A-Z][A-Za-z0-9]*$/;
const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(DNS_LABEL, "expected a DNS label (lowercase letters, digits, '-')");
const dnsSubdomain = z
  .string()
  .min(1)
  .max(253)
  .regex(DNS_SUBDOMAIN, "expected a DNS subdomain (lowercase letters, digits, '-', '.')");
const kindName = z.string().min(1).max(63).regex(KIND_NAME, "expected a Kind such as Deployment");

/** Milliseconds since the epoch, within a sane range (2020 .. 2100). */
export const EPOCH_MS_RANGE = { min: 1_577_836_800_000, max: 4_102_444_800_000 } as const;
const epochMs = z.number().int().min(EPOCH_MS_RANGE.min).max(EPOCH_MS_RANGE.max);
/** The longest window a report may cover. */
export const MAX_WINDOW_MS = 5 * 60_000;
export const MAX_UID_LENGTH = 64;

/** The largest value of each signal. Each is at least 0. */
export const SIGNAL_MAX = {
  requestRate: 1e7,
  queueLength: 1e9,
  inFlight: 1e9,
  completionRate: 1e7,
  rejectRate: 1e7,
  eventLoopLagSeconds: 3600,
} as const satisfies Record<SignalName, number>;

// zod 4's number() already refuses NaN and ±Infinity; the upper bounds refuse absurd values
// that would otherwise size a workload to maxReplicas on one bad report.
const signalSchemas = Object.fromEntries(
  Object.entries(SIGNAL_MAX).map(([name, max]) => [name, z.number().min(0).max(max)]),
) as Record<SignalName, z.ZodNumber>;

export const Signals = z.strictObject(signalSchemas).partial();
export type Signals = z.infer<typeof Signals>;

export const WorkloadRef = z.strictObject({
  namespace: dnsLabel,
  kind: kindName,
  name: dnsSubdomain,
});
export type WorkloadRef = z.infer<typeof WorkloadRef>;

/**
 * The app's state as the agent saw it. `unreachable` and `notReady` are reported, never
 * silently turned into zero load: a pod that cannot be scraped says so.
 */
export const AppState = z.enum(["ready", "notReady", "unreachable"]);
export type AppState = z.infer<typeof AppState>;

export const Report = z
  .strictObject({
    workload: WorkloadRef,
    pod: z.strictObject({
      name: dnsSubdomain,
      uid: z.string().min(1).max(MAX_UID_LENGTH),
    }),
    /** Increases by one per report from the same agent; a replay or reorder is refused. */
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** The span of time the signals cover, ms since the epoch. */
    window: z.strictObject({ start: epochMs, end: epochMs }),
    app: AppState,
    /** Set on the last report an agent sends before it exits: forget this pod now. */
    leaving: z.boolean().optional(),
    signals: Signals,
  })
  .refine((r) => r.window.start <= r.window.end, {
    path: ["window"],
    message: "window.start must not be after window.end",
  })
  .refine((r) => r.window.end - r.window.start <= MAX_WINDOW_MS, {
    path: ["window"],
    message: "window must span at most 5 minutes",
  });
export type Report = z.infer<typeof Report>;

/** `namespace/name`: how the controller keys workloads (kind is checked against the policy). */
export function workloadKey(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}

/** One line per problem, each naming the field: what a 400 problem+json carries. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(body)"}: ${i.message}`);
}

export { SIGNAL_NAMES };
