export * from './managed-process.js';
export * from './platform-processes.js';
export * from './process-entry.js';
export * from './reachability.js';
export * from './stack.js';
export * from './stack-error.js';
export * from './stack-logs.js';
export * from './stack-scope.js';
export { resolveEntries } from './stack-plan.js';
