export * from './service-metrics.js';
export * from './http-metrics.js';
export * from './metrics-route.js';
