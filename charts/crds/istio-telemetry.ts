import type { Construct } from 'constructs';
import { CustomObject, type CustomObjectProps } from './custom-object.js';

/** Spec of an Istio `Telemetry`. */
export interface TelemetrySpec {
  readonly tracing: readonly {
    /** Extension providers declared in the mesh config (`meshConfig.extensionProviders`). */
    readonly providers: readonly { readonly name: string }[];
    readonly randomSamplingPercentage: number;
  }[];
}

/**
 * Istio `Telemetry` (telemetry.istio.io/v1): where sidecars send traces, and how many.
 *
 * @see https://istio.io/latest/docs/reference/config/telemetry/
 */
export class Telemetry extends CustomObject<TelemetrySpec> {
  public static readonly GVK = { apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry' } as const;

  constructor(scope: Construct, id: string, props: CustomObjectProps<TelemetrySpec>) {
    super(scope, id, Telemetry.GVK, props);
  }
}
