import {
  EventsV1Api,
  type KubeConfig,
  V1MicroTime,
  type V1ObjectReference,
} from "@kubernetes/client-node";
import { apiMessage } from "./errors.ts";

export interface SwellEvent {
  /** The object the event is about; shown by `kubectl describe` of that object. */
  regarding: V1ObjectReference;
  /** A second object involved (the scaled target). */
  related?: V1ObjectReference;
  type: "Normal" | "Warning";
  /** CamelCase, like the HPA's: SuccessfulRescale, FailedRescale, ConflictingAutoscaler, InvalidPolicy. */
  reason: string;
  action: string;
  note: string;
}

export const REPORTING_CONTROLLER = "swell.dev/controller";

/** Records events.k8s.io/v1 Events; a failure is logged, never thrown (events are best effort). */
export function eventRecorder(
  kc: KubeConfig,
  instance: string,
  log: { warn(obj: object, msg: string): void },
): (e: SwellEvent) => Promise<void> {
  const api = kc.makeApiClient(EventsV1Api);
  return async (e) => {
    const namespace = e.regarding.namespace ?? "default";
    const now = Date.now();
    try {
      await api.createNamespacedEvent({
        namespace,
        body: {
          // Named like client-go's recorder: the object's name and a unique suffix.
          metadata: {
            name: `${e.regarding.name}.${(now * 1000 + Math.floor(Math.random() * 1000)).toString(16)}`,
            namespace,
          },
          eventTime: new V1MicroTime(now),
          reportingController: REPORTING_CONTROLLER,
          reportingInstance: instance.slice(0, 128),
          action: e.action,
          reason: e.reason,
          type: e.type,
          note: e.note.slice(0, 1024),
          regarding: e.regarding,
          related: e.related,
        },
      });
    } catch (err) {
      log.warn({ err: apiMessage(err), reason: e.reason }, "cannot record event");
    }
  };
}
