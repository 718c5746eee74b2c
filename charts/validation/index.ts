export * from './findings.js';
export * from './schema-gate.js';
export * from './policy-gate.js';
export * from './credential-scan.js';
export * from './mesh-gate.js';
export * from './edge-auth-gate.js';
