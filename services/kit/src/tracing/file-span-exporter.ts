import { appendFileSync } from 'node:fs';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** One span as written by {@link FileSpanExporter}: a JSON line. */
export interface SpanRecord {
  readonly service: string;
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly attributes: Record<string, unknown>;
  readonly status: number;
}

/**
 * Appends finished spans as JSON lines to a file, one span per line.
 *
 * Meant for tests that check one trace across several processes: every process appends to the
 * same file (`AIO_TRACE_FILE`), and the test reads it back with {@link readSpanFile}.
 */
export class FileSpanExporter implements SpanExporter {
  constructor(private readonly path: string) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      const lines = spans.map((s) => JSON.stringify(toRecord(s))).join('\n');
      if (lines) appendFileSync(this.path, `${lines}\n`);
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function toRecord(span: ReadableSpan): SpanRecord {
  const ctx = span.spanContext();
  return {
    service: String(span.resource.attributes['service.name'] ?? ''),
    name: span.name,
    kind: span.kind,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    attributes: { ...span.attributes },
    status: span.status.code,
  };
}
