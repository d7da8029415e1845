import { z } from "zod";
import { SIGNAL_NAMES, type SignalName } from "./signals.ts";

/** Path of the report endpoint; the version is in the path so a v2 can live beside it. */
export const REPORTS_PATH = "/v1/reports";

/** Largest report body the controller reads. A real report is well under 2 KiB. */
export const MAX_REPORT_BYTES = 16 * 1024;

// Kubernetes object names (RFC 1123 subdomain for most kinds; DNS label for namespaces).
const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "expected a DNS label (lowercase letters, digits, '-')",
  );
const dnsSubdomain = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "expected a DNS subdomain (lowercase letters, digits, '-', '.')",
  );
const kindName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Z][A-Za-z0-9]*$/, "expected a Kind such as Deployment");

/** Milliseconds since the epoch, within a sane range (2020 .. 2100). */
const epochMs = z.number().int().min(1_577_836_800_000).max(4_102_444_800_000);

// zod 4's number() already refuses NaN and ±Infinity; the upper bounds refuse absurd values
// that would otherwise size a workload to maxReplicas on one bad report.
const rate = z.number().min(0).max(1e7);
const count = z.number().min(0).max(1e9);
const signalSchemas = {
  requestRate: rate,
  queueLength: count,
  inFlight: count,
  completionRate: rate,
  rejectRate: rate,
  eventLoopLagSeconds: z.number().min(0).max(3600),
} satisfies Record<SignalName, z.ZodNumber>;

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
      uid: z.string().min(1).max(64),
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
  .refine((r) => r.window.end - r.window.start <= 5 * 60_000, {
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
