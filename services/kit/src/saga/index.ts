export * from './participant-call.js';
export * from './retry-policy.js';
export * from './saga-definition.js';
export * from './saga-engine.js';
export * from './saga-routes.js';
export * from './saga-store.js';
export * from './step-failure.js';
