/** What a scale backend is told to act on: the policy's targetRef plus the namespace. */
export interface ScaleTarget {
  namespace: string;
  apiVersion: string;
  kind: string;
  name: string;
}

export interface ScaleStatus {
  /** Replicas asked for (spec.replicas of a Deployment). */
  replicas: number;
  /** Replicas ready to serve. */
  readyReplicas: number;
}

/**
 * Where scale changes land: the /scale subresource in Kubernetes, a pool of local processes on
 * one machine. Small on purpose, so a new backend is a page of code.
 */
export interface ScaleBackend {
  readonly name: string;
  get(target: ScaleTarget, signal?: AbortSignal): Promise<ScaleStatus>;
  /** Sets the replicas. `reason` is for the backend's own record (an Event, a log line). */
  set(target: ScaleTarget, replicas: number, reason: string, signal?: AbortSignal): Promise<void>;
}

export function describeTarget(t: ScaleTarget): string {
  return `${t.kind}/${t.namespace}/${t.name}`;
}
