import { context, propagation, trace, type Context } from '@opentelemetry/api';
import type { JetStreamClient } from '@nats-io/jetstream';
import { getMeter } from '../telemetry/metrics';
import { recordSpanError } from '../telemetry/tracing';
import { publishTimeoutMs } from './defaults';
import type { EventEnvelope } from './envelope';
import { headersWithTrace, startMessageSpan } from './message-tracing';

/** Messages published to JetStream, by subject and outcome (ok|error). */
const publishedCounter = getMeter().createCounter('tracemart.messaging.published', { unit: '{message}', description: 'Messages published to JetStream' });

/**
 * Publishes one event on `subject` (the contracts' `eventSubject`: type and order id). The event id is the JetStream msgID, so a republish (outbox relay after a
 * crash, a retry after a lost ack) is dropped by the server's duplicate window. The PRODUCER span is a
 * child of the context the event was created in, which travels in the NATS headers.
 */
export async function publishEvent(js: JetStreamClient, event: EventEnvelope, subject: string = event.type): Promise<void> {
  // Span name and metric label: the event type; the subject (with the order id) only as an attribute.
  const destination = event.type;
  const parent: Context = event.trace ? propagation.extract(context.active(), event.trace) : context.active();
  const span = startMessageSpan('publish', destination, parent, {
    'messaging.message.id': event.id,
    'messaging.message.conversation_id': event.correlationId,
    'tracemart.messaging.subject': subject,
  });
  const hdrs = headersWithTrace(trace.setSpan(parent, span));
  hdrs.set('Nats-Event-Type', event.type);
  try {
    const { trace: _stored, ...wire } = event;
    const ack = await js.publish(subject, JSON.stringify(wire), { msgID: event.id, headers: hdrs, timeout: publishTimeoutMs });
    if (ack.duplicate) span.setAttribute('tracemart.messaging.duplicate', true);
    publishedCounter.add(1, { 'messaging.destination.name': destination, outcome: 'ok' });
  } catch (err) {
    recordSpanError(span, err);
    publishedCounter.add(1, { 'messaging.destination.name': destination, outcome: 'error' });
    throw err;
  } finally {
    span.end();
  }
}
