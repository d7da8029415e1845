import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { z } from "zod";
import {
  type Env,
  envVars,
  httpServerEnv,
  type LogLevel,
  type ParseEnvResult,
  parseEnv,
  serverLimits,
} from "../../services/kit/config.ts";
import type { ServerLimits } from "../../services/kit/server.ts";

/**
 * The controller's environment. What each variable means, and its default, is documented once,
 * in docs/controller.md (and docs/kubernetes.md for the kubernetes backend).
 */
export const controllerEnv = z
  .object({
    ...httpServerEnv,
    PORT: envVars.port().default(9090),
    /** A report body is tiny; anything bigger is refused early. */
    MAX_BODY_BYTES: envVars.positiveInt(1_048_576).default(16 * 1024),
    SHUTDOWN_DELAY: envVars.durationMs().default(1000),
    SHUTDOWN_TIMEOUT: envVars.durationMs().default(5000),
    SWELL_TOKEN: envVars.string().optional(),
    SWELL_POLICIES: envVars.string().default("swell.local.yaml"),
    SWELL_BACKEND: z.enum(["memory", "kubernetes"]).default("memory"),
    SWELL_IDENTITY: envVars.string().optional(),
    // The kubernetes backend's.
    POD_NAME: envVars.string().optional(),
    POD_NAMESPACE: envVars.string().optional(),
    POD_IP: envVars.host().optional(),
    SWELL_ADVERTISE_URL: envVars.httpUrl().optional(),
    SWELL_WATCH_NAMESPACE: envVars.string().optional(),
    SWELL_LEASE_NAME: envVars.string().default("swell-controller"),
    SWELL_LEASE_NAMESPACE: envVars.string().optional(),
    SWELL_LEASE_DURATION: envVars.durationMs(3_600_000).default(15_000),
    SWELL_RENEW_DEADLINE: envVars.durationMs(3_600_000).default(10_000),
    SWELL_RETRY_PERIOD: envVars.durationMs(3_600_000).default(2_000),
    SWELL_TOKEN_AUDIENCE: envVars.string().default("swell"),
    SWELL_TOKEN_CACHE_TTL: envVars.durationMs(600_000).default(30_000),
    SWELL_FORWARD_TIMEOUT: envVars.durationMs(60_000).default(2_000),
    SWELL_POD_TTL: envVars.durationMs().default(5000),
    SWELL_TICK: envVars.durationMs().default(1000),
    SWELL_REPORT_MAX_AGE: envVars.durationMs().default(30_000),
    SWELL_REPORTS_PER_POD_PER_SECOND: envVars.positiveInt(1000).default(20),
    // The metrics API's (docs/kubernetes.md, "A plain HPA on swell's signals").
    SWELL_METRICS_API_PORT: envVars.port().optional(),
    SWELL_METRICS_API_HOST: envVars.host().optional(),
    SWELL_METRICS_API_SERVICE: envVars.string().default("swell-controller-metrics"),
    SWELL_METRICS_API_SECRET: envVars.string().default("swell-controller-metrics-tls"),
    SWELL_METRICS_API_APISERVICES: envVars
      .string()
      .default(
        "v1beta2.custom.metrics.k8s.io,v1beta1.custom.metrics.k8s.io,v1beta1.external.metrics.k8s.io",
      ),
    SWELL_METRICS_API_MAX_WORKLOADS: envVars.nonNegativeInt(100_000).default(1000),
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
export type ControllerEnv = z.output<typeof controllerEnv>;

/** The Kubernetes backend's settings (docs/kubernetes.md). */
export interface KubernetesConfig {
  /** Where followers forward reports to this instance, when it can be reached. */
  advertiseUrl: string | undefined;
  /** Watch policies and HPAs in this namespace only; every namespace when undefined. */
  watchNamespace: string | undefined;
  lease: {
    name: string;
    /** undefined: the pod's own namespace (in-cluster), else `default`. */
    namespace: string | undefined;
    durationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  tokenAudience: string;
  tokenCacheTtlMs: number;
  forwardTimeoutMs: number;
  /** custom.metrics.k8s.io and external.metrics.k8s.io over TLS; undefined: not served. */
  metricsApi: MetricsApiConfig | undefined;
}

export interface MetricsApiConfig {
  host: string;
  port: number;
  /** The controller's namespace (its Secret and Service); undefined: the pod's own, else default. */
  namespace: string | undefined;
  /** The Service the APIServices name: its DNS names are in the serving certificate. */
  service: string;
  /** The Secret holding the serving certificate every replica shares. */
  secret: string;
  /** The APIServices whose caBundle the controller keeps. */
  apiServices: string[];
}

export interface ControllerConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  maxBodyBytes: number;
  /** What one client can hold of the server (HTTP_* variables; docs/reliability.md). */
  limits: ServerLimits;
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
  /** This instance's name: the Lease holder and the API's `identity`. */
  identity: string;
  /** The memory backend's: the policies file and the agents' shared token (when set). */
  policiesFile: string;
  token: string | undefined;
  /** Set for the kubernetes backend, undefined for the memory backend. */
  kubernetes: KubernetesConfig | undefined;
  podTtlMs: number;
  tickMs: number;
  reportMaxAgeMs: number;
  reportsPerPodPerSecond: number;
  /** Workloads no ScalingPolicy targets whose reports are kept, for the metrics API (0: none). */
  observedWorkloads: number;
}

/**
 * The controller's config from the environment, typed and named for the code that uses it.
 * Pure but for the default identity (this machine's host name). Problems are one line each,
 * naming the variable.
 */
export function parseControllerConfig(
  env: Env,
  defaults: { hostname: () => string } = { hostname },
): ParseEnvResult<ControllerConfig> {
  const parsed = parseEnv(controllerEnv, env);
  if (!parsed.ok) return parsed;
  const v = parsed.value;
  const kubernetes = v.SWELL_BACKEND === "kubernetes";
  // In a cluster the pod's name comes first: it is what the Lease and Events show.
  const identity =
    (kubernetes ? (v.POD_NAME ?? v.SWELL_IDENTITY) : v.SWELL_IDENTITY) ?? defaults.hostname();
  return {
    ok: true,
    value: {
      host: v.HOST,
      port: v.PORT,
      logLevel: v.LOG_LEVEL,
      maxBodyBytes: v.MAX_BODY_BYTES,
      limits: serverLimits(v),
      shutdownDelayMs: v.SHUTDOWN_DELAY,
      shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT,
      identity,
      policiesFile: v.SWELL_POLICIES,
      token: v.SWELL_TOKEN,
      kubernetes: kubernetes
        ? {
            advertiseUrl:
              v.SWELL_ADVERTISE_URL?.href.replace(/\/$/, "") ??
              // Port 0 (any free port) cannot be advertised before the server has bound one.
              (v.POD_IP && v.PORT !== 0 ? `http://${urlHost(v.POD_IP)}:${v.PORT}` : undefined),
            watchNamespace: v.SWELL_WATCH_NAMESPACE,
            lease: {
              name: v.SWELL_LEASE_NAME,
              namespace: v.SWELL_LEASE_NAMESPACE ?? v.POD_NAMESPACE,
              durationMs: v.SWELL_LEASE_DURATION,
              renewDeadlineMs: v.SWELL_RENEW_DEADLINE,
              retryPeriodMs: v.SWELL_RETRY_PERIOD,
            },
            tokenAudience: v.SWELL_TOKEN_AUDIENCE,
            tokenCacheTtlMs: v.SWELL_TOKEN_CACHE_TTL,
            forwardTimeoutMs: v.SWELL_FORWARD_TIMEOUT,
            metricsApi:
              v.SWELL_METRICS_API_PORT === undefined
                ? undefined
                : {
                    host: v.SWELL_METRICS_API_HOST ?? v.HOST,
                    port: v.SWELL_METRICS_API_PORT,
                    namespace: v.POD_NAMESPACE,
                    service: v.SWELL_METRICS_API_SERVICE,
                    secret: v.SWELL_METRICS_API_SECRET,
                    apiServices:
                      v.SWELL_METRICS_API_APISERVICES === "none"
                        ? []
                        : v.SWELL_METRICS_API_APISERVICES.split(",")
                            .map((name) => name.trim())
                            .filter(Boolean),
                  },
          }
        : undefined,
      podTtlMs: v.SWELL_POD_TTL,
      tickMs: v.SWELL_TICK,
      reportMaxAgeMs: v.SWELL_REPORT_MAX_AGE,
      reportsPerPodPerSecond: v.SWELL_REPORTS_PER_POD_PER_SECOND,
      // With the metrics API on, an HPA may read a workload no ScalingPolicy targets.
      observedWorkloads:
        v.SWELL_METRICS_API_PORT === undefined ? 0 : v.SWELL_METRICS_API_MAX_WORKLOADS,
    },
  };
}

/** An IPv6 address in a URL goes in brackets. */
function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** The token agents must send: configured, or a new random one the operator is shown once. */
export function resolveToken(config: { token: string | undefined }): {
  token: string;
  generated: boolean;
} {
  if (config.token) return { token: config.token, generated: false };
  return { token: randomBytes(24).toString("base64url"), generated: true };
}
