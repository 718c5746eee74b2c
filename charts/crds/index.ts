export * from './custom-object.js';
export * from './istio-security.js';
export * from './istio-networking.js';
export * from './istio-telemetry.js';
export * from './gateway-api.js';
export * from './external-secrets.js';
export * from './kong-plugin.js';
export type { IKongPlugin } from './generated/kong-plugin.js';
