import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino } from 'pino';
import type { Logger, LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Options for {@link createLogger}. */
export interface LoggerProps {
  /** Service name, logged as `service`. */
  readonly name: string;
  /** Minimum level. @default info */
  readonly level?: LoggerOptions['level'];
  /** Where to write. @default - stdout */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * Creates a pino JSON logger whose every line carries `trace_id` and `span_id` of the active span.
 *
 * Child loggers (Fastify's per-request logger included) inherit the trace fields.
 *
 * @see https://opentelemetry.io/docs/specs/otel/compatibility/logging_trace_context/
 */
export function createLogger(props: LoggerProps): Logger {
  const options: LoggerOptions = {
    level: props.level ?? 'info',
    base: { service: props.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const ctx = trace.getActiveSpan()?.spanContext();
      return ctx && isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
    },
    redact: ['req.headers.authorization', 'req.headers.cookie'],
  };
  return props.destination ? pino(options, props.destination) : pino(options);
}
