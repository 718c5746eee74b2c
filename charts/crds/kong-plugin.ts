import { ApiObject, type ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';

/** Props of a {@link KongPlugin}. */
export interface KongPluginProps {
  readonly metadata: ApiObjectMetadata;
  /** The Kong plugin name, e.g. `rate-limiting`. */
  readonly plugin: string;
  /** The plugin's configuration. @default - the plugin's defaults */
  readonly config?: Readonly<Record<string, unknown>>;
}

/**
 * Kong `KongPlugin` (configuration.konghq.com/v1). Routes opt in with the `konghq.com/plugins`
 * annotation. Kong publishes no typed model, so the schema gate checks it against
 * `charts/schemas/kong-plugin.schema.json`.
 *
 * @see https://docs.konghq.com/kubernetes-ingress-controller/latest/reference/custom-resources/#kongplugin
 */
export class KongPlugin extends ApiObject {
  public static readonly GVK = { apiVersion: 'configuration.konghq.com/v1', kind: 'KongPlugin' } as const;
  /** The plugin name. */
  public readonly plugin: string;

  constructor(scope: Construct, id: string, props: KongPluginProps) {
    super(scope, id, {
      ...KongPlugin.GVK,
      metadata: props.metadata,
      plugin: props.plugin,
      ...(props.config ? { config: props.config } : {}),
    });
    this.plugin = props.plugin;
  }
}

/** Props of a {@link KongClusterPlugin}. */
export interface KongClusterPluginProps {
  /** Object metadata (cluster-scoped: no namespace). */
  readonly metadata: ApiObjectMetadata;
  /** The Kong plugin name, e.g. `pre-function`. */
  readonly plugin: string;
  /** The plugin's configuration. @default - the plugin's defaults */
  readonly config?: Readonly<Record<string, unknown>>;
}

/**
 * Kong `KongClusterPlugin` (configuration.konghq.com/v1). With the label `global: "true"` it runs on
 * every request, and only a global plugin runs in Kong's rewrite phase, before the router picks a
 * route. The schema gate checks it against `charts/schemas/kong-plugin.schema.json`.
 *
 * @see https://developer.konghq.com/kubernetes-ingress-controller/reference/custom-resources/#kongclusterplugin
 */
export class KongClusterPlugin extends ApiObject {
  public static readonly GVK = {
    apiVersion: 'configuration.konghq.com/v1',
    kind: 'KongClusterPlugin',
  } as const;
  /** The plugin name. */
  public readonly plugin: string;

  constructor(scope: Construct, id: string, props: KongClusterPluginProps) {
    super(scope, id, {
      ...KongClusterPlugin.GVK,
      metadata: props.metadata,
      plugin: props.plugin,
      ...(props.config ? { config: props.config } : {}),
    });
    this.plugin = props.plugin;
  }
}
