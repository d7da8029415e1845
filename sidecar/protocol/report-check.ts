import {
  DNS_LABEL,
  DNS_SUBDOMAIN,
  EPOCH_MS_RANGE,
  KIND_NAME,
  MAX_UID_LENGTH,
  MAX_WINDOW_MS,
  type Report,
  SIGNAL_MAX,
} from "./report.ts";

/**
 * Whether parsed JSON is a report the `Report` schema takes exactly as it is: the controller's
 * fast path, since zod's walk and copy of every report was a tenth of the ingest CPU. It only
 * ever says yes to what the schema accepts unchanged (a property test holds it to that); on no,
 * the caller asks the schema, whose issues name each offending field.
 */
export function isPlainReport(v: unknown): v is Report {
  if (!isObject(v)) return false;
  let keys = 0;
  for (const key in v) {
    keys++;
    if (!Object.hasOwn(TOP, key)) return false;
  }
  const r = v as Record<string, unknown>;
  const leaving = r.leaving;
  if (keys !== (leaving === undefined ? 6 : 7)) return false;
  if (leaving !== undefined && typeof leaving !== "boolean") return false;
  return (
    workloadOk(r.workload) &&
    podOk(r.pod) &&
    typeof r.seq === "number" &&
    Number.isSafeInteger(r.seq) &&
    r.seq >= 0 &&
    windowOk(r.window) &&
    (r.app === "ready" || r.app === "notReady" || r.app === "unreachable") &&
    signalsOk(r.signals)
  );
}

const TOP = { workload: 1, pod: 1, seq: 1, window: 1, app: 1, leaving: 1, signals: 1 };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Exactly the keys given, and no others. */
function hasOnly(v: Record<string, unknown>, a: string, b: string, c?: string): boolean {
  let n = 0;
  for (const key in v) {
    n++;
    if (key !== a && key !== b && key !== c) return false;
  }
  return n === (c === undefined ? 2 : 3);
}

function name(v: unknown, max: number, pattern: RegExp): boolean {
  return typeof v === "string" && v.length >= 1 && v.length <= max && pattern.test(v);
}

function workloadOk(v: unknown): boolean {
  return (
    isObject(v) &&
    hasOnly(v, "namespace", "kind", "name") &&
    name(v.namespace, 63, DNS_LABEL) &&
    name(v.kind, 63, KIND_NAME) &&
    name(v.name, 253, DNS_SUBDOMAIN)
  );
}

function podOk(v: unknown): boolean {
  return (
    isObject(v) &&
    hasOnly(v, "name", "uid") &&
    name(v.name, 253, DNS_SUBDOMAIN) &&
    typeof v.uid === "string" &&
    v.uid.length >= 1 &&
    v.uid.length <= MAX_UID_LENGTH
  );
}

function epochMs(v: unknown): v is number {
  return (
    typeof v === "number" &&
    Number.isInteger(v) &&
    v >= EPOCH_MS_RANGE.min &&
    v <= EPOCH_MS_RANGE.max
  );
}

function windowOk(v: unknown): boolean {
  if (!isObject(v) || !hasOnly(v, "start", "end")) return false;
  const { start, end } = v;
  return epochMs(start) && epochMs(end) && start <= end && end - start <= MAX_WINDOW_MS;
}

function signalsOk(v: unknown): boolean {
  if (!isObject(v)) return false;
  for (const key in v) {
    const max = (SIGNAL_MAX as Record<string, number>)[key];
    if (!Object.hasOwn(SIGNAL_MAX, key) || max === undefined) return false;
    const x = v[key];
    if (typeof x !== "number" || !(x >= 0 && x <= max)) return false;
  }
  return true;
}
