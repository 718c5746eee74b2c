import type { Migration } from '@aio/kit';

/**
 * Review's schema: one review per customer and SKU, and the rating summary per SKU kept in the same
 * transaction as each review, so that reading it is one primary-key lookup however many reviews a SKU
 * has (the catalog asks for it on every product page).
 */
export const migrations: Migration[] = [
  {
    id: '001_reviews',
    sql: `
CREATE TABLE reviews (
  review_id uuid PRIMARY KEY,
  sku text NOT NULL,
  customer_id text NOT NULL,
  rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  title text NOT NULL,
  body text NOT NULL,
  request_fingerprint text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sku, customer_id)
);
CREATE INDEX reviews_by_sku ON reviews (sku, created_at DESC, review_id);
CREATE TABLE rating_summaries (
  sku text PRIMARY KEY,
  count integer NOT NULL CHECK (count >= 0),
  rating_sum integer NOT NULL CHECK (rating_sum >= 0),
  histogram integer[] NOT NULL CHECK (cardinality(histogram) = 5)
);
`,
  },
];
