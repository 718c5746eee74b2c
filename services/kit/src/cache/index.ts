export * from './cache-aside.js';
export * from './cache-errors.js';
export * from './cache-keys.js';
export * from './cache-metrics.js';
export * from './redis-guard.js';
export * from './single-flight.js';
export * from './xfetch.js';
export * from './cache-feed-follower.js';
