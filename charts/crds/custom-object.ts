import { ApiObject, type ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';

/**
 * The interface of a CRD-backed kind as a schema package declares it (`IVirtualService` in
 * `@kubernetes-models/istio`, `IHTTPRoute` in `@kubernetes-models/gateway-api`, or one generated
 * into `charts/crds/generated/`): literal `apiVersion` and `kind`, and a `spec`.
 */
export interface KindModel {
  readonly apiVersion: string;
  readonly kind: string;
  readonly spec?: unknown;
}

/** The group/version and kind of a custom resource, checked against its model's literals. */
export interface GroupVersionKind<M extends KindModel = KindModel> {
  readonly apiVersion: M['apiVersion'];
  readonly kind: M['kind'];
}

/** The spec type of a kind, as its schema package declares it. */
export type SpecOf<M extends KindModel> = NonNullable<M['spec']>;

/**
 * Props of every typed custom-resource construct: metadata plus the spec of the model `M`.
 */
export interface CustomObjectProps<M extends KindModel> {
  /** Object metadata: name and namespace at least. */
  readonly metadata: ApiObjectMetadata;
  /** The resource's spec, typed by the kind's schema package. */
  readonly spec: SpecOf<M>;
}

/**
 * An `ApiObject` whose kind is backed by a CRD that an add-on installs (Istio, Gateway API,
 * External Secrets). The spec type comes from the kind's schema package, never from a
 * hand-written interface, so the types and the schema gate (which validates the synthesized
 * object with the same package) cannot drift apart. A subclass only pins the kind:
 *
 * ```ts
 * import type { IRequestAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication';
 * export class RequestAuthentication extends CustomObject<IRequestAuthentication> {
 *   public static readonly GVK: GroupVersionKind<IRequestAuthentication> = { apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication' };
 *   constructor(scope: Construct, id: string, props: CustomObjectProps<IRequestAuthentication>) {
 *     super(scope, id, RequestAuthentication.GVK, props);
 *   }
 * }
 * ```
 *
 * The schema packages are ESM-only; they are imported here as types only (erased at build), and
 * loaded at run time only by the schema gate.
 *
 * @see https://cdk8s.io/docs/latest/basics/escape-hatches/
 * @see https://github.com/tommy351/kubernetes-models-ts
 */
export abstract class CustomObject<M extends KindModel> extends ApiObject {
  /** The spec as given. */
  public readonly spec: SpecOf<M>;

  protected constructor(scope: Construct, id: string, gvk: GroupVersionKind<M>, props: CustomObjectProps<M>) {
    super(scope, id, {
      apiVersion: gvk.apiVersion,
      kind: gvk.kind,
      metadata: props.metadata,
      spec: props.spec,
    });
    this.spec = props.spec;
  }
}
