import {
  AutoscalingV2Api,
  CustomObjectsApi,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
  type ObjectCache,
  type V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { API_VERSION } from "../../protocol/policy.ts";
import { apiMessage } from "./errors.ts";
import { type HpaRef, type PolicyObject, type Resolution, resolvePolicies } from "./resolve.ts";

export const [POLICY_GROUP, POLICY_VERSION] = API_VERSION.split("/") as [string, string];
export const POLICY_PLURAL = "scalingpolicies";

export interface WatchOptions {
  /** One namespace, or every namespace when undefined. */
  namespace: string | undefined;
  /** Called after every change with the policies to run and what is wrong with each object. */
  onChange: (resolution: Resolution) => void;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

type Watched<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/**
 * Watches ScalingPolicies and HorizontalPodAutoscalers (list once, then a watch; the informer
 * re-lists after a broken watch) and resolves them into the controller's policies on each change.
 */
export class PolicyWatch {
  readonly #opts: WatchOptions;
  readonly #policies: Watched<KubernetesObject & PolicyObject>;
  readonly #hpas: Watched<V2HorizontalPodAutoscaler>;
  #stopped = false;
  #pending: NodeJS.Timeout | undefined;
  #last: Resolution = { effective: [], byUid: new Map() };
  #lastSummary = "";

  constructor(kc: KubeConfig, opts: WatchOptions) {
    this.#opts = opts;
    const ns = opts.namespace;
    const custom = kc.makeApiClient(CustomObjectsApi);
    const autoscaling = kc.makeApiClient(AutoscalingV2Api);
    const base = `/apis/${POLICY_GROUP}/${POLICY_VERSION}`;
    this.#policies = makeInformer(
      kc,
      ns ? `${base}/namespaces/${ns}/${POLICY_PLURAL}` : `${base}/${POLICY_PLURAL}`,
      () =>
        (ns
          ? custom.listNamespacedCustomObject({
              group: POLICY_GROUP,
              version: POLICY_VERSION,
              namespace: ns,
              plural: POLICY_PLURAL,
            })
          : custom.listClusterCustomObject({
              group: POLICY_GROUP,
              version: POLICY_VERSION,
              plural: POLICY_PLURAL,
            })) as Promise<KubernetesListObject<KubernetesObject & PolicyObject>>,
    );
    this.#hpas = makeInformer(
      kc,
      ns
        ? `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`
        : "/apis/autoscaling/v2/horizontalpodautoscalers",
      () =>
        ns
          ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ns })
          : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(),
    );
  }

  get resolution(): Resolution {
    return this.#last;
  }

  /** Lists both kinds, resolves once, then follows changes. */
  async start(): Promise<void> {
    this.#follow("ScalingPolicies", this.#policies);
    this.#follow("HorizontalPodAutoscalers", this.#hpas);
    await Promise.all([this.#policies.start(), this.#hpas.start()]);
    this.#resolve();
  }

  #follow<T extends KubernetesObject>(what: string, informer: Watched<T>): void {
    informer.on("add", () => this.#schedule());
    informer.on("update", () => this.#schedule());
    informer.on("delete", () => this.#schedule());
    informer.on("error", (err: unknown) => {
      if (this.#stopped) return;
      this.#opts.log.warn({ err: apiMessage(err), what }, "watch failed; restarting in 2 s");
      setTimeout(() => {
        if (!this.#stopped) informer.start().catch(() => {});
      }, 2000);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#pending);
    await Promise.all([this.#policies.stop(), this.#hpas.stop()]);
  }

  // A burst of events (the initial list, a kubectl apply of many) makes one resolution.
  #schedule(): void {
    if (this.#pending || this.#stopped) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      this.#resolve();
    }, 50);
  }

  #resolve(): void {
    const hpas: HpaRef[] = this.#hpas.list().map((h) => ({
      namespace: h.metadata?.namespace ?? "",
      name: h.metadata?.name ?? "",
      target: {
        apiVersion: h.spec?.scaleTargetRef.apiVersion ?? "",
        kind: h.spec?.scaleTargetRef.kind ?? "",
        name: h.spec?.scaleTargetRef.name ?? "",
      },
    }));
    const r = resolvePolicies(this.#policies.list(), hpas);
    this.#last = r;
    // Status writes come back through the watch: log only when the outcome changed.
    const summary = {
      workloads: r.effective.map((p) => `${p.metadata.namespace}/${p.spec.targetRef.name}`),
      refused: [...r.byUid.values()]
        .filter((p) => p.invalid || p.conflict)
        .map((p) => `${p.object.metadata?.namespace}/${p.object.metadata?.name}`),
    };
    const text = JSON.stringify(summary);
    if (text !== this.#lastSummary) this.#opts.log.info(summary, "policies");
    this.#lastSummary = text;
    this.#opts.onChange(r);
  }
}
