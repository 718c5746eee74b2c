import type { FastifyInstance } from 'fastify';
import { customerOf } from '@aio/kit';
{{#if postgres}}
import type { Pool } from '@aio/kit';
{{/if}}
{{#if redis}}
import type { Redis } from '@aio/kit';
{{/if}}

/** What the example routes use. */
export interface ExampleDeps {
  /** The `GREETING` setting. */
  readonly greeting: string;
{{#if postgres}}
  readonly pool: Pool;
{{/if}}
{{#if redis}}
  readonly redis: Redis;
  readonly cachePrefix: string;
{{/if}}
}

/**
 * An example API at `{{exampleRoute}}`: replace it with the real one. Request bodies are validated
 * with JSON Schema; a bad request gets a 400 problem+json naming each invalid field.
 *
 * `public: true` lets the gateway route it; its auth level is then `customer` by default: the kit
 * verifies the customer's token (`AUTH_ISSUER`, `AUTH_AUDIENCE`) before the handler runs, answers
 * 401 without a valid one, and `customerOf(request)` is the token's subject. Declare
 * `auth: 'public'` for what anyone may call, and set `auth: public` on the route in platform.yaml too.
 */
export function registerExampleRoutes(app: FastifyInstance, deps: ExampleDeps): void {
{{#if postgres}}
  app.get('{{exampleRoute}}', { config: { public: true } }, async (request) => {
    const { rows } = await deps.pool.query<{ id: string; name: string }>(
      'SELECT id::text, name FROM items WHERE customer_id = $1 ORDER BY id DESC LIMIT 50',
      [customerOf(request)],
    );
    return { message: deps.greeting, items: rows };
  });

  app.post<{ Body: { name: string } }>(
    '{{exampleRoute}}',
    {
      config: { public: true },
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
        },
      },
    },
    async (request, reply) => {
      const { rows } = await deps.pool.query<{ id: string }>(
        'INSERT INTO items (customer_id, name) VALUES ($1, $2) RETURNING id::text',
        [customerOf(request), request.body.name],
      );
      return reply.code(201).send({ id: rows[0]!.id, name: request.body.name });
    },
  );
{{/if}}
{{#unless postgres}}
  app.get('{{exampleRoute}}', { config: { public: true } }, async (request) => {
    const customer = customerOf(request);
{{#if redis}}
    const hits = await deps.redis.incr(`${deps.cachePrefix}hits:${customer}`);
    return { service: '{{name}}', message: deps.greeting, customer, hits };
{{/if}}
{{#unless redis}}
    return { service: '{{name}}', message: deps.greeting, customer };
{{/unless}}
  });
{{/unless}}
}
