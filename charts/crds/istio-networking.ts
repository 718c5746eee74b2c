import type { IDestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule';
import type { IServiceEntry } from '@kubernetes-models/istio/networking.istio.io/v1/ServiceEntry';
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import type { Construct } from 'constructs';
import { CustomObject, type CustomObjectProps, type GroupVersionKind } from './custom-object.js';

/**
 * Istio `DestinationRule` (networking.istio.io/v1): how clients talk to a host.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/
 */
export class DestinationRule extends CustomObject<IDestinationRule> {
  public static readonly GVK: GroupVersionKind<IDestinationRule> = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<IDestinationRule>) {
    super(scope, id, DestinationRule.GVK, props);
  }
}

/**
 * Istio `VirtualService` (networking.istio.io/v1): timeouts, retries, mirroring and fault
 * injection for a host.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/
 */
export class VirtualService extends CustomObject<IVirtualService> {
  public static readonly GVK: GroupVersionKind<IVirtualService> = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<IVirtualService>) {
    super(scope, id, VirtualService.GVK, props);
  }
}

/**
 * Istio `ServiceEntry` (networking.istio.io/v1): a host outside the mesh that sidecars know by
 * name and protocol (so HTTP routing, telemetry and `REGISTRY_ONLY` egress work for it).
 *
 * @see https://istio.io/latest/docs/reference/config/networking/service-entry/
 */
export class ServiceEntry extends CustomObject<IServiceEntry> {
  public static readonly GVK: GroupVersionKind<IServiceEntry> = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<IServiceEntry>) {
    super(scope, id, ServiceEntry.GVK, props);
  }
}
