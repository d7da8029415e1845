import type http from "node:http";
import type { Logger } from "../../services/kit/logger.ts";
import type { HttpMetrics } from "../../services/kit/metrics.ts";
import { HttpProblem, PROBLEM_CONTENT_TYPE, problems } from "../../services/kit/problem.ts";
import { REPORTS_PATH } from "../protocol/report.ts";
import { ACCEPTED, type TakeReport } from "./api.ts";

export interface ReportRouteDeps {
  take: TakeReport;
  /** The kit's HTTP metrics of the app, so a report counts in them as on any route. */
  metrics: HttpMetrics;
  logger: Logger;
  maxBodyBytes: number;
  /** Whether this instance takes reports itself now; when not (a follower), Hono's route forwards. */
  applies: () => boolean;
}

/** A node:http handler tried before the app: true when it took the request. */
export type RawRoute = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

const ACCEPTED_BODY = JSON.stringify(ACCEPTED);
const ACCEPTED_HEADERS = {
  "content-type": "application/json",
  "content-length": String(Buffer.byteLength(ACCEPTED_BODY)),
};

/**
 * `POST /v1/reports` served on node:http directly, before Hono. Every pod reports every
 * second, and building a web Request, a Hono context and a Response for each report cost the
 * controller more CPU than taking the report itself (BENCHMARKS.md). What the kit's middleware
 * gives every route, this gives the reports too: the body limit (413), problem+json for every
 * refusal, the HTTP metrics and the access line (debug when accepted, info when refused). The
 * controller makes no server spans (it does not start tracing), so neither does this. What
 * is accepted is decided by `take`, as on the Hono route.
 */
export function reportRoute(deps: ReportRouteDeps): RawRoute {
  const { metrics, logger, maxBodyBytes } = deps;
  return (req, res) => {
    if (req.method !== "POST" || req.url !== REPORTS_PATH || !deps.applies()) return false;
    const start = performance.now();
    metrics.arrived();
    const done = (status: number, headers: Record<string, string>, body: string) => {
      res.writeHead(status, headers).end(body);
      metrics.departed();
      const ms = performance.now() - start;
      metrics.finished("POST", REPORTS_PATH, status, ms / 1000);
      const level = status < 400 ? "debug" : "info";
      if (logger.isLevelEnabled(level)) {
        const fields = { method: "POST", route: REPORTS_PATH, path: REPORTS_PATH, status };
        logger[level]({ ...fields, duration_ms: Math.round(ms * 1000) / 1000 }, "request");
      }
    };
    const refuse = (err: unknown) => {
      let problem: HttpProblem;
      if (err instanceof HttpProblem) problem = err;
      else {
        logger.error({ err, method: "POST", path: REPORTS_PATH }, "unhandled error");
        problem = problems.internal();
      }
      const body = JSON.stringify(problem.toProblem());
      done(
        problem.status,
        {
          ...problem.headers,
          "content-type": PROBLEM_CONTENT_TYPE,
          "content-length": String(Buffer.byteLength(body)),
        },
        body,
      );
    };
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      // Refused on the header alone, as the kit does; the unread body is discarded by Node.
      refuse(problems.payloadTooLarge(maxBodyBytes));
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        // A chunked body, whose size is known only as it arrives.
        tooLarge = true;
        refuse(problems.payloadTooLarge(maxBodyBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (tooLarge) return;
      const body =
        chunks.length === 1 ? (chunks[0] as Buffer).toString() : Buffer.concat(chunks).toString();
      deps
        .take(req.headers.authorization, body)
        .then(() => done(202, ACCEPTED_HEADERS, ACCEPTED_BODY), refuse);
    });
    return true;
  };
}
