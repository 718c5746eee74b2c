import { Construct } from 'constructs';
import { KongPlugin } from './crds/kong-plugin.js';

/** Props of {@link EdgePlugins}. */
export interface EdgePluginsProps {
  /** Namespace of the routes that use the plugins (Kong's). */
  readonly namespace: string;
  /** Requests per minute per client. @default 600 */
  readonly rateLimitPerMinute?: number;
  /** What a client is. @default 'ip' */
  readonly rateLimitBy?: 'ip' | 'consumer';
  /** Largest request body, in megabytes. @default 8 */
  readonly maxRequestBodyMb?: number;
  /** OTLP/HTTP traces endpoint (`.../v1/traces`). */
  readonly otlpTracesEndpoint: string;
  /** Header carrying the correlation id. @default 'X-Correlation-ID' */
  readonly correlationHeader?: string;
}

/**
 * The KongPlugins every edge route uses: rate limiting, a correlation id, a request size limit
 * and OpenTelemetry with W3C trace context (so a trace starts at the edge and continues through
 * Istio and the services).
 *
 * @see https://docs.konghq.com/hub/kong-inc/opentelemetry/
 */
export class EdgePlugins extends Construct {
  /** The plugins, in the order of the `konghq.com/plugins` annotation. */
  public readonly plugins: readonly KongPlugin[];

  constructor(scope: Construct, id: string, props: EdgePluginsProps) {
    super(scope, id);
    const ns = props.namespace;
    const plugin = (cid: string, name: string, config: Record<string, unknown>) =>
      new KongPlugin(this, cid, { metadata: { name, namespace: ns }, plugin: name, config });
    this.plugins = [
      plugin('RateLimiting', 'rate-limiting', {
        minute: props.rateLimitPerMinute ?? 600,
        limit_by: props.rateLimitBy ?? 'ip',
        policy: 'local',
      }),
      plugin('CorrelationId', 'correlation-id', {
        header_name: props.correlationHeader ?? 'X-Correlation-ID',
        generator: 'uuid#counter',
        echo_downstream: true,
      }),
      plugin('RequestSizeLimiting', 'request-size-limiting', {
        allowed_payload_size: props.maxRequestBodyMb ?? 8,
        size_unit: 'megabytes',
      }),
      plugin('OpenTelemetry', 'opentelemetry', {
        traces_endpoint: props.otlpTracesEndpoint,
        resource_attributes: { 'service.name': 'kong' },
        propagation: { extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' },
      }),
    ];
  }

  /** The value of the `konghq.com/plugins` annotation. */
  public get annotation(): string {
    return this.plugins.map((p) => p.metadata.name).join(',');
  }
}
