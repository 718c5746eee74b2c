import { HttpProblem } from '@aio/kit';

/**
 * The monolith's ids: decimal sequence numbers. The services mint UUIDs, so an id says which side
 * created it: the gateway sends single-resource reads of service ids to the service, and of these
 * ids to the monolith, whatever the customer's cohort (`config.ownIds`).
 */
export const LEGACY_ID_PATTERN = '[0-9]{1,18}';
const LEGACY_ID = new RegExp(`^${LEGACY_ID_PATTERN}$`);

/**
 * The id as the database key, or a 404 naming the resource: an id of another shape (a service's
 * UUID) cannot be the monolith's.
 *
 * @throws HttpProblem 404
 */
export function legacyId(kind: string, id: string): string {
  if (!LEGACY_ID.test(id)) throw new HttpProblem(404, `no ${kind} ${id}`);
  return id;
}
