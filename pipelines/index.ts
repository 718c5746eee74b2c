export * from './actions.js';
export * from './workflow.js';
export * from './steps.js';
export * from './service-workflow.js';
export * from './platform-workflows.js';
export * from './pr-summary.js';
export * from './generated-files.js';
export * from './platform-pipeline-stack.js';
