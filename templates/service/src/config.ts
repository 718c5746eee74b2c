import { serviceConfigSchema, z } from '@aio/kit';

/**
 * The service's configuration, read from env variables. In the cluster, the platform's
 * ServiceChart sets them (secrets such as DATABASE_URL come from AWS Secrets Manager).
 */
{{#if postgres}}
export const configSchema = serviceConfigSchema.extend({
{{/if}}
{{#unless postgres}}
export const configSchema = serviceConfigSchema.omit({ DATABASE_URL: true }).extend({
{{/unless}}
  /** An example setting: replace it with the service's own. */
  GREETING: z.string().min(1).default('hello from {{name}}'),
{{#if redis}}
  /** The service's own Redis, `redis://host:6379`. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// url'),
  /** Prefix of every Redis key this service writes. */
  CACHE_PREFIX: z.string().default('{{name}}:'),
{{/if}}
{{#if hasCalls}}
{{peerConfig}}
{{/if}}
});

/** The parsed configuration. */
export type Config = z.infer<typeof configSchema>;
