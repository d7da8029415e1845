import type { JsonResponse } from "../kit/http-client.ts";
import { HttpProblem, problems } from "../kit/problem.ts";

export type RequestJson = (
  url: URL,
  options: { method: string; body: unknown; signal: AbortSignal },
) => Promise<JsonResponse>;

/**
 * Submits a job to the worker and maps its answers to the api's: 202 → the job id; 429 passed
 * through with its Retry-After; unreachable, timed out or draining → 503; anything else → 502.
 */
export async function submitJob(
  requestJson: RequestJson,
  workerUrl: URL,
  job: { costMs?: number },
  signal: AbortSignal,
): Promise<{ id: string }> {
  let res: JsonResponse;
  try {
    res = await requestJson(new URL("/jobs", workerUrl), { method: "POST", body: job, signal });
  } catch (err) {
    const reason = signal.aborted ? "did not answer in time" : `is unreachable (${errorCode(err)})`;
    throw problems.serviceUnavailable(`the worker ${reason}`, 1);
  }
  const body = res.body as { id?: unknown; detail?: unknown } | undefined;
  if (res.status === 202 && typeof body?.id === "string") return { id: body.id };
  if (res.status === 429) {
    const retryAfter = Number(res.headers["retry-after"] ?? 1);
    throw problems.tooManyRequests(
      "the worker's queue is full",
      Number.isFinite(retryAfter) ? retryAfter : 1,
    );
  }
  if (res.status === 503) throw problems.serviceUnavailable("the worker is not taking jobs now", 1);
  throw new HttpProblem(502, `the worker answered ${res.status}`);
}

function errorCode(err: unknown): string {
  if (err && typeof err === "object" && "code" in err && typeof err.code === "string")
    return err.code;
  return err instanceof Error ? err.message : String(err);
}
