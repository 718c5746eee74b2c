import { ApiObject, type ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';

/** The group/version and kind of a custom resource. */
export interface GroupVersionKind {
  readonly apiVersion: string;
  readonly kind: string;
}

/**
 * Props of every typed custom-resource construct: metadata plus a typed `spec`.
 */
export interface CustomObjectProps<Spec> {
  /** Object metadata: name and namespace at least. */
  readonly metadata: ApiObjectMetadata;
  /** The resource's spec, typed per kind. */
  readonly spec: Spec;
}

/**
 * An `ApiObject` whose kind is backed by a CRD that an add-on installs (Istio, Gateway API,
 * External Secrets, Kong). Subclasses pin `apiVersion`/`kind` and type the spec; the schema gate
 * validates the synthesized object against the upstream CRD schema.
 *
 * @see https://cdk8s.io/docs/latest/basics/escape-hatches/
 */
export abstract class CustomObject<Spec> extends ApiObject {
  /** The spec as given. */
  public readonly spec: Spec;

  protected constructor(scope: Construct, id: string, gvk: GroupVersionKind, props: CustomObjectProps<Spec>) {
    super(scope, id, { ...gvk, metadata: props.metadata, spec: props.spec });
    this.spec = props.spec;
  }
}
