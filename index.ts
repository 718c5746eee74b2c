/**
 * @aio/platform: the platform model, synthesizers, constructs and charts as a library.
 */
export * from './model/index.js';
export * from './synth/index.js';
