export * from './start-tracing.js';
export * from './file-span-exporter.js';
export { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
export type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
