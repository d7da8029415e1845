import { randomBytes } from "node:crypto";
import { z } from "zod";
import { envVars, httpServerEnv } from "../../services/kit/config.ts";

export const controllerEnv = z
  .object({
    ...httpServerEnv,
    PORT: envVars.port().default(9090),
    /** A report body is tiny; anything bigger is refused early. */
    MAX_BODY_BYTES: envVars.positiveInt(1_048_576).default(16 * 1024),
    SHUTDOWN_DELAY: envVars.durationMs().default(1000),
    SHUTDOWN_TIMEOUT: envVars.durationMs().default(5000),
    /** Shared bearer token for agents (local mode). Generated and printed when unset. */
    SWELL_TOKEN: envVars.string().optional(),
    /** YAML file with ScalingPolicy documents. */
    SWELL_POLICIES: envVars.string().default("swell.local.yaml"),
    /**
     * Where scale changes go: `memory` only remembers them (try the API, benchmarks);
     * `kubernetes` writes the targets' /scale, with policies from ScalingPolicy objects.
     */
    SWELL_BACKEND: z.enum(["memory", "kubernetes"]).default("memory"),
    /** This instance's name, shown as the leader identity (kubernetes: POD_NAME comes first). */
    SWELL_IDENTITY: envVars.string().optional(),
    // --- kubernetes backend (docs/kubernetes.md) ---
    /** From the downward API: the pod's name (identity), namespace (the Lease's) and IP. */
    POD_NAME: envVars.string().optional(),
    POD_NAMESPACE: envVars.string().optional(),
    POD_IP: envVars.host().optional(),
    /** Where followers forward reports to this instance; default http://$POD_IP:$PORT. */
    SWELL_ADVERTISE_URL: envVars.httpUrl().optional(),
    /** Watch ScalingPolicies and HPAs in this namespace only; every namespace when unset. */
    SWELL_WATCH_NAMESPACE: envVars.string().optional(),
    SWELL_LEASE_NAME: envVars.string().default("swell-controller"),
    /** The Lease's namespace; default POD_NAMESPACE, else the in-cluster namespace, else default. */
    SWELL_LEASE_NAMESPACE: envVars.string().optional(),
    /** client-go's leader election timings. */
    SWELL_LEASE_DURATION: envVars.durationMs(3_600_000).default(15_000),
    SWELL_RENEW_DEADLINE: envVars.durationMs(3_600_000).default(10_000),
    SWELL_RETRY_PERIOD: envVars.durationMs(3_600_000).default(2_000),
    /** The audience of the agents' projected ServiceAccount tokens. */
    SWELL_TOKEN_AUDIENCE: envVars.string().default("swell"),
    /** How long a TokenReview verdict, and a pod's workload, are reused. */
    SWELL_TOKEN_CACHE_TTL: envVars.durationMs(600_000).default(30_000),
    /** How long a follower waits for the leader's answer to a forwarded report. */
    SWELL_FORWARD_TIMEOUT: envVars.durationMs(60_000).default(2_000),
    /** A pod silent for longer is left out of the aggregate (not read as zero load). */
    SWELL_POD_TTL: envVars.durationMs().default(5000),
    /** Every workload is decided on at least this often. */
    SWELL_TICK: envVars.durationMs().default(1000),
    /** Reports whose window ended longer ago are refused as stale. */
    SWELL_REPORT_MAX_AGE: envVars.durationMs().default(30_000),
    // --- metrics API (docs/kubernetes.md, "Scaling with a plain HPA on swell's signals") ---
    /** Serve custom.metrics.k8s.io and external.metrics.k8s.io over TLS on this port (kubernetes). */
    SWELL_METRICS_API_PORT: envVars.port().optional(),
    /** Address of the metrics API's listener; default HOST. */
    SWELL_METRICS_API_HOST: envVars.host().optional(),
    /** The Service the APIServices name: its DNS names are in the serving certificate. */
    SWELL_METRICS_API_SERVICE: envVars.string().default("swell-controller-metrics"),
    /** The Secret (in POD_NAMESPACE) holding the serving certificate every replica shares. */
    SWELL_METRICS_API_SECRET: envVars.string().default("swell-controller-metrics-tls"),
    /** The APIServices whose caBundle the controller keeps (comma-separated; "none": none). */
    SWELL_METRICS_API_APISERVICES: envVars
      .string()
      .default(
        "v1beta2.custom.metrics.k8s.io,v1beta1.custom.metrics.k8s.io,v1beta1.external.metrics.k8s.io",
      )
      .transform((v) =>
        v === "none"
          ? []
          : v
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
      ),
    /** Workloads with no ScalingPolicy whose reports are kept for the metrics API (it serves). */
    SWELL_METRICS_API_MAX_WORKLOADS: envVars.nonNegativeInt(100_000).default(1000),
    /** Reports a second one pod may send (bursts of twice that). */
    SWELL_REPORTS_PER_POD_PER_SECOND: envVars.positiveInt(1000).default(20),
  })
  .superRefine((c, ctx) => {
    // The metrics API authenticates through, and registers with, a Kubernetes API server.
    if (c.SWELL_METRICS_API_PORT !== undefined && c.SWELL_BACKEND !== "kubernetes") {
      ctx.addIssue({
        code: "custom",
        path: ["SWELL_METRICS_API_PORT"],
        message: "expected only with SWELL_BACKEND=kubernetes",
      });
    }
    // client-go's rules: the leader gives up (renewDeadline) before others may take over
    // (leaseDuration), and retries several times within the deadline.
    if (c.SWELL_RENEW_DEADLINE >= c.SWELL_LEASE_DURATION) {
      ctx.addIssue({
        code: "custom",
        path: ["SWELL_RENEW_DEADLINE"],
        message: `expected less than SWELL_LEASE_DURATION (${c.SWELL_LEASE_DURATION} ms)`,
      });
    }
    if (c.SWELL_RETRY_PERIOD >= c.SWELL_RENEW_DEADLINE) {
      ctx.addIssue({
        code: "custom",
        path: ["SWELL_RETRY_PERIOD"],
        message: `expected less than SWELL_RENEW_DEADLINE (${c.SWELL_RENEW_DEADLINE} ms)`,
      });
    }
  });
export type ControllerConfig = z.output<typeof controllerEnv>;

/** The token agents must send: configured, or a new random one the operator is shown once. */
export function resolveToken(config: ControllerConfig): { token: string; generated: boolean } {
  if (config.SWELL_TOKEN) return { token: config.SWELL_TOKEN, generated: false };
  return { token: randomBytes(24).toString("base64url"), generated: true };
}
