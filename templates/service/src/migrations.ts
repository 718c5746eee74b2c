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
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  },
];
