export * from './validation-error.js';
export * from './schema.js';
export * from './load-platform.js';
export * from './platform-model.js';
export * from './json-schema.js';
export { peerUrlVariable, PLATFORM_ENV_VARS } from './cross-checks.js';
export { formatPath } from './source-positions.js';
export { nearestName } from './nearest-name.js';
export { naming } from './naming.js';
