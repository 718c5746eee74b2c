import { randomUUID } from 'node:crypto';
import { HttpProblem, requestFingerprint, withTransaction } from '@aio/kit';
import type { Pool } from '@aio/kit';

/** What a customer writes. */
export interface ReviewInput {
  readonly sku: string;
  readonly rating: number;
  readonly title: string;
  readonly body: string;
}

/** A stored review. */
export interface Review extends ReviewInput {
  readonly reviewId: string;
  readonly customerId: string;
  readonly createdAt: string;
}

/** A SKU's ratings: count, mean (2 decimals, `null` without reviews) and stars 1–5. */
export interface RatingSummary {
  readonly sku: string;
  readonly count: number;
  readonly average: number | null;
  readonly histogram: Readonly<Record<'1' | '2' | '3' | '4' | '5', number>>;
}

/** What {@link Reviews.create} did: `created` 201, `replayed` 200 (the same request again). */
export interface CreateOutcome {
  readonly outcome: 'created' | 'replayed';
  readonly review: Review;
}

interface ReviewRow {
  review_id: string;
  sku: string;
  customer_id: string;
  rating: number;
  title: string;
  body: string;
  request_fingerprint: string;
  created_at: Date;
}

const COLUMNS = 'review_id, sku, customer_id, rating, title, body, request_fingerprint, created_at';

/**
 * Review's store. A customer reviews a SKU once: the `(sku, customer_id)` key makes a resent request
 * a replay (the first review back) and a different one a 409. The SKU's summary row is updated in the
 * review's transaction, so its count is always the number of reviews.
 */
export class Reviews {
  public constructor(private readonly pool: Pool) {}

  /** Writes `input` as `customerId`'s review of its SKU, or replays / refuses (409) a second one. */
  public async create(customerId: string, input: ReviewInput): Promise<CreateOutcome> {
    const fingerprint = requestFingerprint({ ...input, customerId });
    return withTransaction(this.pool, async (client) => {
      const inserted = await client.query<ReviewRow>(
        `INSERT INTO reviews (review_id, sku, customer_id, rating, title, body, request_fingerprint)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (sku, customer_id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [randomUUID(), input.sku, customerId, input.rating, input.title, input.body, fingerprint],
      );
      const row = inserted.rows[0];
      if (row) {
        await client.query(
          `INSERT INTO rating_summaries AS s (sku, count, rating_sum, histogram)
           VALUES ($1, 1, $2::int, (SELECT array_agg(CASE WHEN i = $2::int THEN 1 ELSE 0 END ORDER BY i) FROM generate_series(1, 5) i))
           ON CONFLICT (sku) DO UPDATE SET
             count = s.count + 1,
             rating_sum = s.rating_sum + $2::int,
             histogram[$2::int] = s.histogram[$2::int] + 1`,
          [input.sku, input.rating],
        );
        return { outcome: 'created', review: toReview(row) };
      }
      // the row of a concurrent or earlier request: committed, since ON CONFLICT waited for it
      const { rows } = await client.query<ReviewRow>(
        `SELECT ${COLUMNS} FROM reviews WHERE sku = $1 AND customer_id = $2`,
        [input.sku, customerId],
      );
      const existing = rows[0]!;
      if (existing.request_fingerprint !== fingerprint)
        throw new HttpProblem(
          409,
          `customer ${customerId} already reviewed ${input.sku} (review ${existing.review_id})`,
          {
            reviewId: existing.review_id,
          },
        );
      return { outcome: 'replayed', review: toReview(existing) };
    });
  }

  /** One review, or undefined. */
  public async get(reviewId: string): Promise<Review | undefined> {
    const { rows } = await this.pool.query<ReviewRow>(`SELECT ${COLUMNS} FROM reviews WHERE review_id = $1`, [
      reviewId,
    ]);
    return rows[0] && toReview(rows[0]);
  }

  /** A SKU's newest reviews first. */
  public async list(sku: string, limit: number): Promise<Review[]> {
    const { rows } = await this.pool.query<ReviewRow>(
      `SELECT ${COLUMNS} FROM reviews WHERE sku = $1 ORDER BY created_at DESC, review_id LIMIT $2`,
      [sku, limit],
    );
    return rows.map(toReview);
  }

  /** A SKU's rating summary: one primary-key read; a SKU nobody reviewed has count 0. */
  public async summary(sku: string): Promise<RatingSummary> {
    const { rows } = await this.pool.query<{ count: number; rating_sum: number; histogram: number[] }>(
      'SELECT count, rating_sum, histogram FROM rating_summaries WHERE sku = $1',
      [sku],
    );
    const row = rows[0];
    const h = row?.histogram ?? [0, 0, 0, 0, 0];
    return {
      sku,
      count: row?.count ?? 0,
      average: row && row.count > 0 ? Math.round((row.rating_sum / row.count) * 100) / 100 : null,
      histogram: { '1': h[0] ?? 0, '2': h[1] ?? 0, '3': h[2] ?? 0, '4': h[3] ?? 0, '5': h[4] ?? 0 },
    };
  }
}

function toReview(row: ReviewRow): Review {
  return {
    reviewId: row.review_id,
    sku: row.sku,
    customerId: row.customer_id,
    rating: row.rating,
    title: row.title,
    body: row.body,
    createdAt: row.created_at.toISOString(),
  };
}
