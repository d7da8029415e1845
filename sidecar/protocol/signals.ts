/**
 * The load signals an agent derives from its app's metrics and reports, and that policies size
 * on. Rates count arrivals (demand), not completions (throughput): a saturated replica completes
 * no more however many arrive, so sizing on completions could never see how far behind it is.
 */
export const SIGNALS = {
  /** Requests or jobs received per second (accepted + rejected). */
  requestRate: "requests/s",
  /** Jobs waiting, not yet started. */
  queueLength: "jobs",
  /** Requests or jobs being served now. */
  inFlight: "requests",
  /** Requests or jobs finished per second: the measured service rate when saturated. */
  completionRate: "requests/s",
  /** Requests or jobs refused per second (429, queue full). */
  rejectRate: "requests/s",
  /** Event-loop lag of the app, seconds (p99 where the app exports it). */
  eventLoopLagSeconds: "s",
} as const;

export type SignalName = keyof typeof SIGNALS;
export const SIGNAL_NAMES = Object.keys(SIGNALS) as SignalName[];
