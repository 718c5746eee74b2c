export * from './crds/index.js';
export * from './service-credentials.js';
export * from './service-mesh-policy.js';
export * from './service-chart.js';
