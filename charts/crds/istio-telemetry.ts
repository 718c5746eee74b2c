import type { ITelemetry } from '@kubernetes-models/istio/telemetry.istio.io/v1/Telemetry';
import type { Construct } from 'constructs';
import { CustomObject, type CustomObjectProps, type GroupVersionKind } from './custom-object.js';

/**
 * Istio `Telemetry` (telemetry.istio.io/v1): where sidecars send traces, and how many.
 *
 * @see https://istio.io/latest/docs/reference/config/telemetry/
 */
export class Telemetry extends CustomObject<ITelemetry> {
  public static readonly GVK: GroupVersionKind<ITelemetry> = {
    apiVersion: 'telemetry.istio.io/v1',
    kind: 'Telemetry',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<ITelemetry>) {
    super(scope, id, Telemetry.GVK, props);
  }
}
