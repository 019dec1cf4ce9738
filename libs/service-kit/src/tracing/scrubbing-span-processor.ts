import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { scrubSecrets } from '../logging/scrub-secrets';

type MutableAttributes = Record<string, unknown>;

function scrubAttributes(attributes: MutableAttributes): void {
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string') attributes[key] = scrubSecrets(value);
    else if (Array.isArray(value)) attributes[key] = value.map((v: unknown) => (typeof v === 'string' ? scrubSecrets(v) : v));
  }
}

/**
 * Masks credentials in every string a span carries (its attributes, its events' attributes such as
 * a recorded exception's message and stack, its status message) before the span reaches `inner`
 * and the exporter: a trace backend is one more place a key must not reach, and spans come from
 * code that cannot scrub for itself (the messaging lib's consumer spans record handler errors as
 * thrown). The ended span's objects are plain and still ours until `inner` queues them, so they are
 * scrubbed in place.
 */
export class ScrubbingSpanProcessor implements SpanProcessor {
  constructor(private readonly inner: SpanProcessor) {}

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnding(span: Span): void {
    this.inner.onEnding?.(span);
  }

  onEnd(span: ReadableSpan): void {
    scrubAttributes(span.attributes as MutableAttributes);
    for (const event of span.events) if (event.attributes) scrubAttributes(event.attributes as MutableAttributes);
    if (span.status.message) (span.status as { message?: string }).message = scrubSecrets(span.status.message);
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
