export * from './auth-config.js';
export * from './principal.js';
export * from './route-auth.js';
export * from './token-verifier.js';
