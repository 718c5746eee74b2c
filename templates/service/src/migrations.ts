import type { Migration } from '@aio/kit';

/**
 * Database migrations, applied in id order at startup under an advisory lock (replicas never
 * race). Append new ones; never edit one that has shipped.
 */
export const migrations: Migration[] = [
  {
    id: '001_items',
    sql: `CREATE TABLE items (
      id bigserial PRIMARY KEY,
      customer_id text NOT NULL,
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX items_customer ON items (customer_id, id)`,
  },
];
