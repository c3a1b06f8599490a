import { context, propagation, SpanKind, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { getTracer } from '../telemetry/tracing';

const tracer = getTracer('tracemart.messaging');

/** W3C trace context travels in NATS message headers. */
const getter = {
  keys: (carrier: MsgHdrs) => [...carrier.keys()],
  get: (carrier: MsgHdrs, key: string) => carrier.get(key) || undefined,
};
const setter = { set: (carrier: MsgHdrs, key: string, value: string) => carrier.set(key, value) };

/** New message headers carrying `ctx`. */
export function headersWithTrace(ctx: Context): MsgHdrs {
  const hdrs = natsHeaders();
  propagation.inject(ctx, hdrs, setter);
  return hdrs;
}

/** The context a received message was sent in (the active one when it carries none). */
export function traceOf(headers: MsgHdrs | undefined): Context {
  return headers ? propagation.extract(context.active(), headers, getter) : context.active();
}

/**
 * What spans and metrics name a message by: the first two tokens of its subject, the event type (`payments.charged`)
 * or `deadletter.<consumer>`, without the partition and order id a stored subject carries.
 */
export function destinationOf(subject: string): string {
  return subject.split('.', 2).join('.');
}

/**
 * The span of one NATS hop: PRODUCER `publish <subject>` or CONSUMER `process <subject>`, with the messaging
 * semantic-convention attributes common to both, then `attributes`.
 */
export function startMessageSpan(operation: 'publish' | 'process', subject: string, parent: Context, attributes: Attributes): Span {
  const publishing = operation === 'publish';
  return tracer.startSpan(
    `${operation} ${subject}`,
    {
      kind: publishing ? SpanKind.PRODUCER : SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': publishing ? 'send' : 'process',
        'messaging.operation.name': operation,
        'messaging.destination.name': subject,
        ...attributes,
      },
    },
    parent,
  );
}
