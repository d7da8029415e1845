import { STATUS_CODES } from "node:http";

/** RFC 9457 problem details, as sent with `application/problem+json`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/**
 * An error that is meant for the client: thrown anywhere in a handler, the app's error handler
 * answers with its problem (and headers, e.g. Retry-After). Anything else thrown becomes a 500
 * that tells nothing about the internals.
 */
export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly type: string;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(
    status: number,
    detail: string,
    options: {
      title?: string;
      type?: string;
      headers?: Record<string, string>;
      extensions?: Record<string, unknown>;
    } = {},
  ) {
    super(detail);
    this.name = "HttpProblem";
    this.status = status;
    this.detail = detail;
    this.title = options.title ?? STATUS_CODES[status] ?? "Error";
    this.type = options.type ?? "about:blank";
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }

  toProblem(): Problem {
    const { type, title, status, detail } = this;
    // Extensions come after the core members and cannot replace them.
    return Object.assign({ type, title, status, detail }, this.extensions, {
      type,
      title,
      status,
      detail,
    });
  }

  toResponse(): Response {
    return problemResponse(this.toProblem(), this.headers);
  }
}

export function problemResponse(problem: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { ...headers, "content-type": PROBLEM_CONTENT_TYPE },
  });
}

/** The problems every service answers with, by status. */
export const problems = {
  badRequest: (detail: string, extensions?: Record<string, unknown>) =>
    new HttpProblem(400, detail, { extensions }),
  notFound: (detail = "no such resource") => new HttpProblem(404, detail),
  /** 405 with Allow: the path exists, but not for this method. */
  methodNotAllowed: (method: string, allowed: readonly string[]) =>
    new HttpProblem(405, `${method} is not allowed here; use ${allowed.join(", ")}`, {
      headers: { allow: allowed.join(", ") },
    }),
  payloadTooLarge: (maxBytes: number) =>
    new HttpProblem(413, `request body is larger than ${maxBytes} bytes`),
  /** 429 with Retry-After (whole seconds, at least 1). */
  tooManyRequests: (detail: string, retryAfterSeconds: number) =>
    new HttpProblem(429, detail, {
      headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    }),
  serviceUnavailable: (detail: string, retryAfterSeconds?: number) =>
    new HttpProblem(503, detail, {
      headers:
        retryAfterSeconds === undefined
          ? {}
          : { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    }),
  internal: () => new HttpProblem(500, "the server failed to handle the request"),
};
