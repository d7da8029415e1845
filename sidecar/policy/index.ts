export { limitRate, scaleDownLimit, scaleUpLimit, stabilize } from "./behavior.ts";
export { decide, historyHorizonMs } from "./decide.ts";
export { activeFloor, scheduleActive } from "./floors.ts";
export { appliedElsewhere, notApplied, tookOver } from "./handover.ts";
export type {
  AggregatedPoint,
  DecideInput,
  Decision,
  LimitedBy,
  PolicyState,
  PrescaleFloor,
  StageName,
  StageResult,
} from "./types.ts";
