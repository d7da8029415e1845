import { ApiException } from "@kubernetes/client-node";
import { type HttpProblem, problems } from "../../../services/kit/problem.ts";

/** HTTP status of a failed API call (404, 409, 422, ...), or undefined for other failures. */
export function apiStatus(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/** A short message for a failed API call: the Status message, not the whole response dump. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    let message: string | undefined;
    if (typeof body === "string") {
      try {
        message = (JSON.parse(body) as { message?: string }).message;
      } catch {
        message = body.slice(0, 200);
      }
    } else if (body && typeof body === "object") {
      message = (body as { message?: string }).message;
    }
    return `HTTP ${err.code}${message ? `: ${message}` : ""}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * The answer for a request the controller cannot check because the API server did not answer
 * (down, unreachable, 5xx): 503 with Retry-After, which agents retry, rather than a 401 or 403
 * they would take as final.
 */
export function apiUnavailable(what: string): HttpProblem {
  return problems.serviceUnavailable(
    `cannot ${what} now: the Kubernetes API did not answer; send it again`,
    1,
  );
}

/** Whether the API server gave a verdict (a 4xx about the request), not a failure to answer. */
export function isApiVerdict(err: unknown): boolean {
  const status = apiStatus(err);
  return status !== undefined && status >= 400 && status < 500 && status !== 429;
}
