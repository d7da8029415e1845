import {
  type Configuration,
  type KubeConfig,
  KubernetesObjectApi,
  type V1APIResource,
} from "@kubernetes/client-node";

/** A namespaced resource of an API group, as the scale and custom-object endpoints name it. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  /** Whether the resource serves a /scale subresource. */
  scalable: boolean;
}

// client-node resolves kinds to resources (with a cache per apiVersion) inside
// KubernetesObjectApi, but keeps that method and its cache protected; a subclass reaches them.
class DiscoveryClient extends KubernetesObjectApi {
  constructor(configuration: Configuration) {
    super(configuration);
  }
  async find(
    apiVersion: string,
    kind: string,
  ): Promise<{ resource: V1APIResource | undefined; all: V1APIResource[] }> {
    const resource = await this.resource(apiVersion, kind);
    return { resource, all: this.apiVersionResourceCache[apiVersion]?.resources ?? [] };
  }
}

export interface Discovery {
  /** The resource of `kind` in `apiVersion` (e.g. apps/v1 Deployment → deployments). */
  resolve(apiVersion: string, kind: string): Promise<ResourceRef>;
}

/** Resolves kinds through the API server's discovery documents (cached per apiVersion). */
export function apiDiscovery(kc: KubeConfig): Discovery {
  const client = kc.makeApiClient(DiscoveryClient);
  return {
    async resolve(apiVersion, kind) {
      const slash = apiVersion.indexOf("/");
      // The core group ("v1") lives under /api, which the group-based scale calls do not reach;
      // of its kinds only ReplicationController has a /scale, and it is long superseded.
      if (slash < 0) {
        throw new Error(`${kind} of the core API group (${apiVersion}) is not supported`);
      }
      const { resource, all } = await client.find(apiVersion, kind);
      if (!resource || resource.name.includes("/")) {
        throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
      }
      // Subresources are listed beside their resource ("deployments/scale").
      const scalable = all.some((r) => r.name === `${resource.name}/scale`);
      return {
        group: apiVersion.slice(0, slash),
        version: apiVersion.slice(slash + 1),
        plural: resource.name,
        scalable,
      };
    },
  };
}
