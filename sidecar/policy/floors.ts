/** Prescale floors: API floors that expire, and daily schedules (UTC). */
import type { PrescaleSchedule } from "../protocol/policy.ts";
import type { PrescaleFloor, StageOutcome } from "./types.ts";

export interface ActiveFloor {
  replicas: number;
  reason: string;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const DAY_MS = 86_400_000;

function minutes(hhmm: string): number {
  const [h = "0", m = "0"] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
}

/** Is the schedule's range active at `now` (ms since epoch)? A range may run past midnight. */
export function scheduleActive(s: PrescaleSchedule, now: number): boolean {
  const start = minutes(s.start);
  const end = minutes(s.end);
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
  const minuteOfDay = (now - dayStart) / 60_000;
  // The range that could cover `now` started today, or (when it wraps midnight) yesterday.
  const startsToday =
    start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start;
  const startedYesterday = start > end && minuteOfDay < end;
  if (!startsToday && !startedYesterday) return false;
  if (!s.days) return true;
  const day = new Date(startedYesterday ? dayStart - DAY_MS : dayStart).getUTCDay();
  return s.days.includes(DAYS[day] as (typeof DAYS)[number]);
}

/** The highest floor in force at `now`, or undefined. */
export function activeFloor(
  floors: readonly PrescaleFloor[] | undefined,
  schedules: readonly PrescaleSchedule[],
  now: number,
): ActiveFloor | undefined {
  let best: ActiveFloor | undefined;
  for (const f of floors ?? []) {
    if (f.expiresAt > now && (!best || f.replicas > best.replicas)) {
      const left = Math.round((f.expiresAt - now) / 1000);
      best = {
        replicas: f.replicas,
        reason: `prescale floor ${f.replicas} (${f.reason}; ${left}s left)`,
      };
    }
  }
  for (const s of schedules) {
    if (scheduleActive(s, now) && (!best || s.replicas > best.replicas)) {
      best = {
        replicas: s.replicas,
        reason: `schedule "${s.name}" floor ${s.replicas} (${s.start}-${s.end} UTC)`,
      };
    }
  }
  return best;
}

/** The floors stage: the highest floor in force raises the size, up to maxReplicas. */
export function floorStage(
  floor: ActiveFloor | undefined,
  proposed: number,
  maxReplicas: number,
): StageOutcome {
  if (!floor) return { replicas: proposed, notes: [], idle: "no floor in force" };
  if (proposed >= maxReplicas)
    return { replicas: proposed, notes: [], idle: `${floor.reason}: already at maxReplicas` };
  if (floor.replicas <= proposed)
    return { replicas: proposed, notes: [], idle: `${floor.reason}: not above ${proposed}` };
  const replicas = Math.min(floor.replicas, maxReplicas);
  return {
    replicas,
    limitedBy: "floor",
    notes: [
      `${floor.reason} raises it to ${replicas}${replicas < floor.replicas ? ` (maxReplicas ${maxReplicas})` : ""}`,
    ],
  };
}
