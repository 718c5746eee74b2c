import { Construct } from 'constructs';
import { ExternalSecret } from './crds/external-secrets.js';
import { TOKEN_ISSUER_ENV } from './token-issuer.js';

/** The Secrets Manager secrets to turn into connection URLs. */
export interface ServiceCredentialsProps {
  /** The service name: prefixes the Kubernetes Secret names. */
  readonly service: string;
  /** Namespace of the service. */
  readonly namespace: string;
  /** Name of the `ClusterSecretStore` to read from. */
  readonly secretStoreName: string;
  /**
   * Secrets Manager name of the database credentials (JSON: host, port, dbname, username, password).
   *
   * @default - no database secret
   */
  readonly databaseSecretName?: string;
  /**
   * Secrets Manager name of the Redis credentials (JSON: host, port, password).
   *
   * @default - no Redis secret
   */
  readonly cacheSecretName?: string;
  /**
   * Secrets Manager name of a provisioned customer token issuer (JSON: issuer, audience, jwksUri),
   * rendered as `AUTH_ISSUER`, `AUTH_AUDIENCE` and `AUTH_JWKS_URI`.
   *
   * @default - no issuer secret
   */
  readonly identitySecretName?: string;
  /** How often the controller re-reads the secrets (rotation). @default '1h' */
  readonly refreshInterval?: string;
}

/** Where a connection URL ends up in the cluster. */
export interface SecretKeyRef {
  readonly secretName: string;
  readonly key: string;
}

/**
 * ExternalSecrets that build `DATABASE_URL` and `REDIS_URL` (and, for a provisioned token issuer,
 * `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URI`) inside the cluster.
 *
 * The External Secrets controller reads the JSON secret from AWS Secrets Manager and renders the
 * URL with a template into a Kubernetes Secret owned by the ExternalSecret. The manifest holds only
 * the secret's name and the template: no value is ever synthesized. The password is URL-escaped so
 * that any generated password yields a valid URL.
 *
 * @see https://external-secrets.io/latest/guides/templating/
 */
export class ServiceCredentials extends Construct {
  /** `DATABASE_URL`'s Secret and key, when the service has a database. */
  public readonly databaseUrl?: SecretKeyRef;
  /** `REDIS_URL`'s Secret and key, when the service has a cache. */
  public readonly redisUrl?: SecretKeyRef;
  /** The Secret holding `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URI`, for a provisioned issuer. */
  public readonly identitySecret?: string;

  constructor(scope: Construct, id: string, props: ServiceCredentialsProps) {
    super(scope, id);
    const refreshInterval = props.refreshInterval ?? '1h';
    /** One ExternalSecret `<service>-<suffix>` rendering `data` (key → template); returns its name. */
    const render = (
      childId: string,
      suffix: string,
      remoteKey: string,
      data: Record<string, string>,
    ): string => {
      const secretName = `${props.service}-${suffix}`;
      new ExternalSecret(this, childId, {
        metadata: { name: secretName, namespace: props.namespace },
        spec: {
          refreshInterval,
          secretStoreRef: { kind: 'ClusterSecretStore', name: props.secretStoreName },
          target: {
            name: secretName,
            creationPolicy: 'Owner',
            template: { engineVersion: 'v2', data },
          },
          dataFrom: [{ extract: { key: remoteKey } }],
        },
      });
      return secretName;
    };
    const add = (
      childId: string,
      suffix: string,
      remoteKey: string,
      key: string,
      template: string,
    ): SecretKeyRef => ({ secretName: render(childId, suffix, remoteKey, { [key]: template }), key });
    if (props.databaseSecretName) {
      this.databaseUrl = add(
        'Database',
        'database',
        props.databaseSecretName,
        'DATABASE_URL',
        'postgres://{{ .username | urlquery }}:{{ .password | urlquery }}@{{ .host }}:{{ .port }}/{{ .dbname }}?sslmode=require',
      );
    }
    if (props.cacheSecretName) {
      this.redisUrl = add(
        'Cache',
        'redis',
        props.cacheSecretName,
        'REDIS_URL',
        'rediss://:{{ .password | urlquery }}@{{ .host }}:{{ .port }}',
      );
    }
    if (props.identitySecretName) {
      this.identitySecret = render('Identity', 'identity', props.identitySecretName, {
        [TOKEN_ISSUER_ENV.issuer]: '{{ .issuer }}',
        [TOKEN_ISSUER_ENV.audience]: '{{ .audience }}',
        [TOKEN_ISSUER_ENV.jwksUri]: '{{ .jwksUri }}',
      });
    }
  }
}
