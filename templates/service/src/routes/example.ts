import type { FastifyInstance } from 'fastify';
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
 */
export function registerExampleRoutes(app: FastifyInstance, deps: ExampleDeps): void {
{{#if postgres}}
  app.get('{{exampleRoute}}', async () => {
    const { rows } = await deps.pool.query<{ id: string; name: string }>(
      'SELECT id::text, name FROM items ORDER BY id DESC LIMIT 50',
    );
    return { message: deps.greeting, items: rows };
  });

  app.post<{ Body: { name: string } }>(
    '{{exampleRoute}}',
    {
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
        'INSERT INTO items (name) VALUES ($1) RETURNING id::text',
        [request.body.name],
      );
      return reply.code(201).send({ id: rows[0]!.id, name: request.body.name });
    },
  );
{{/if}}
{{#unless postgres}}
  app.get('{{exampleRoute}}', async () => {
{{#if redis}}
    const hits = await deps.redis.incr(`${deps.cachePrefix}hits`);
    return { service: '{{name}}', message: deps.greeting, hits };
{{/if}}
{{#unless redis}}
    return { service: '{{name}}', message: deps.greeting };
{{/unless}}
  });
{{/unless}}
}
