// The outbox and its gap-safe feed: events written with the business change, served at GET /events.
export * from './outbox-schema.js';
export { recordEvents, rowEventCtes, withEvents, type OutboxEvent, type RowEvents } from './outbox-event.js';
export * from './event-feed.js';
export * from './feed-holdback.js';
export * from './outbox-retention.js';
export * from './feed-routes.js';
export * from './feed-client.js';
