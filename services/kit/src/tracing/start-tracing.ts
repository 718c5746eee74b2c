import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { FileSpanExporter } from './file-span-exporter.js';

/** Options for {@link startTracing}. */
export interface TracingProps {
  /** `service.name` of every span. `OTEL_SERVICE_NAME` wins when set. */
  readonly serviceName: string;
  /**
   * Extra exporters, each behind a SimpleSpanProcessor (spans leave as soon as they end).
   * Tests pass an `InMemorySpanExporter` here.
   * @default - none; OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, a JSON-lines file when AIO_TRACE_FILE is set
   */
  readonly exporters?: readonly SpanExporter[];
  /** Extra instrumentations, added to http, undici (fetch), pg and ioredis. @default - none */
  readonly instrumentations?: readonly Instrumentation[];
  /** Env to read `OTEL_*` and `AIO_TRACE_FILE` from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** The running tracer provider, returned by {@link startTracing}. */
export interface Tracing {
  readonly provider: NodeTracerProvider;
  /** Exports every finished span now. */
  forceFlush(): Promise<void>;
  /** Flushes and stops exporting; call it last during shutdown. */
  shutdown(): Promise<void>;
}

let current: Tracing | undefined;

/**
 * Registers the global tracer provider, the W3C trace-context propagator and the http, undici (fetch),
 * pg and ioredis instrumentations.
 *
 * Must run before pg, ioredis, fastify or http are loaded, so a service's `main.ts` starts with it and
 * imports the rest of the app dynamically (see the kit README). A second call returns the first result.
 * With `OTEL_SDK_DISABLED=true`, or with no exporter configured, no span is recorded at all (recording
 * spans that nobody exports costs CPU on every request and query), but the W3C propagator and the
 * instrumentations still forward the incoming `traceparent` to every outgoing call, so services that
 * do export keep one trace across this one.
 *
 * @see https://opentelemetry.io/docs/languages/js/getting-started/nodejs/
 * @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 */
export function startTracing(props: TracingProps): Tracing {
  if (current) return current;
  const env = props.env ?? process.env;
  const processors: SpanProcessor[] = [];
  if (env.OTEL_SDK_DISABLED !== 'true') {
    if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
      processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
    }
    if (env.AIO_TRACE_FILE)
      processors.push(new SimpleSpanProcessor(new FileSpanExporter(env.AIO_TRACE_FILE)));
    for (const exporter of props.exporters ?? []) processors.push(new SimpleSpanProcessor(exporter));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? props.serviceName }),
    spanProcessors: processors,
  });
  if (processors.length > 0) {
    provider.register();
  } else {
    // no SDK tracer: the API's no-op tracer hands the incoming span context on unchanged
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(
      new CompositePropagator({
        propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
      }),
    );
  }
  registerInstrumentations({
    ...(processors.length > 0 ? { tracerProvider: provider } : {}),
    instrumentations: [
      new HttpInstrumentation({
        // Probes would drown real traffic in Jaeger.
        ignoreIncomingRequestHook: (req) => req.url === '/healthz' || req.url === '/readyz',
      }),
      new UndiciInstrumentation(),
      new PgInstrumentation(),
      new IORedisInstrumentation(),
      ...(props.instrumentations ?? []),
    ],
  });
  current = {
    provider,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  return current;
}

/** The provider started by {@link startTracing}, if any. */
export function currentTracing(): Tracing | undefined {
  return current;
}
