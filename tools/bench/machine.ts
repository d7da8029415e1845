import { readFileSync } from "node:fs";
import os from "node:os";

export interface Machine {
  cpus: number;
  model: string;
  node: string;
  /** 1-minute load average when the run started: how busy the machine was. */
  loadAverage: number;
}

export function describeMachine(): Machine {
  let model = os.cpus()[0]?.model ?? "unknown";
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? model;
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpus: os.availableParallelism(),
    model,
    node: process.version,
    loadAverage: os.loadavg()[0] ?? Number.NaN,
  };
}
