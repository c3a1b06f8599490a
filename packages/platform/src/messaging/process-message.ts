import { context, trace, type Span } from '@opentelemetry/api';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { getMeter } from '../telemetry/metrics';
import { recordSpanError } from '../telemetry/tracing';
import { writeDeadLetter } from './dead-letters';
import type { HandlerResult } from './consumer-spec';
import type { ResolvedConsumerSpec } from './defaults';
import type { EventEnvelope } from './envelope';
import { settle, type MetricOutcome, type Observed, type Settlement } from './settlement';
import { startMessageSpan, traceOf, destinationOf } from './message-tracing';

const meter = getMeter();
/** Messages handled by a durable consumer, by consumer, subject and outcome (ack|nak|term|duplicate|ignored). */
const consumedCounter = meter.createCounter('tracemart.messaging.consumed', { unit: '{message}', description: 'Messages handled by consumers' });
/** Deliveries that were redeliveries (delivery count > 1). */
const redeliveredCounter = meter.createCounter('tracemart.messaging.redelivered', { unit: '{message}', description: 'Redelivered messages' });
/** Time one message took from delivery to settlement, by the same attributes as `tracemart.messaging.consumed`. */
const handleLatency = meter.createHistogram('tracemart.messaging.process.duration', { unit: 's', description: 'Handler duration per message' });

/**
 * Runs one delivery through decode, the type filter, the idempotency claim and the handler, stopping at the
 * first step that settles it. Never throws: a failure is what it observed.
 */
async function observe(spec: ResolvedConsumerSpec, msg: JsMsg, span: Span): Promise<Observed> {
  let event: EventEnvelope;
  try {
    event = msg.json<EventEnvelope>();
    if (spec.decode) event = spec.decode(event);
  } catch (error) {
    return { step: 'decode', error };
  }
  try {
    span.setAttribute('messaging.message.conversation_id', event.correlationId);
    if (spec.handles && !spec.handles.includes(event.type)) return { step: 'filter' };
    // Idempotent consumer: claim the event first; one already applied is acknowledged and skipped,
    // one being applied right now by a concurrent delivery is retried later.
    const claim = spec.processed ? await spec.processed.claim(spec.group, event.id) : 'claimed';
    if (claim !== 'claimed') return { step: 'claim', claim };
    let result: HandlerResult;
    try {
      result = (await spec.handler(event, msg)) ?? 'ack';
    } catch (err) {
      await spec.processed?.release(spec.group, event.id);
      throw err;
    }
    if (result === 'ack') await spec.processed?.complete(spec.group, event.id);
    else await spec.processed?.release(spec.group, event.id);
    return { step: 'handler', result };
  } catch (error) {
    return { step: 'failed', error };
  }
}

/** Records a failure on the span and in the log, as the settlement it led to. */
function reportFailure(observed: Observed, settlement: Settlement, span: Span, logger: Logger, where: { subject: string; consumer: string; attempt: number }): void {
  const { subject, consumer, attempt } = where;
  if (observed.step === 'decode') {
    recordSpanError(span, observed.error);
    logger.error({ err: observed.error, subject, consumer }, 'invalid message, dead-lettering it');
  } else if (observed.step === 'failed') {
    recordSpanError(span, observed.error);
    if (settlement.action === 'nak') logger.warn({ err: observed.error, subject, consumer, attempt, delayMs: settlement.delayMs }, 'message failed, will retry');
    else logger.error({ err: observed.error, subject, consumer, attempt }, 'message failed for good, dead-lettering it');
  }
}

/**
 * Handles one delivery of a durable consumer inside a CONSUMER span, then acks, naks or (after dead-lettering
 * it) terms the message as `settle` decides, and counts the outcome.
 */
export async function processMessage(spec: ResolvedConsumerSpec, msg: JsMsg, deps: { js: JetStreamClient; logger: Logger }): Promise<void> {
  const parent = traceOf(msg.headers);
  // The event type (`payments.charged`), not the stored subject with its partition and order id: span names and metric
  // labels stay few; the whole subject is a span attribute.
  const subject = destinationOf(msg.subject);
  const attempt = msg.info.deliveryCount;
  // Parent/child, not a link: each saga message causes exactly one unit of work, so the whole saga
  // reads as one trace. Span links are kept for fan-in work such as projection replays.
  const span = startMessageSpan('process', subject, parent, {
    'messaging.consumer.group.name': spec.group,
    'tracemart.messaging.subject': msg.subject,
    'messaging.message.id': msg.headers?.get('Nats-Msg-Id') ?? '',
    'tracemart.messaging.delivery_count': attempt,
  });
  if (attempt > 1) redeliveredCounter.add(1, { 'messaging.consumer.group.name': spec.group, 'messaging.destination.name': subject });
  const started = performance.now();
  let outcome: MetricOutcome = 'ack';
  await context.with(trace.setSpan(parent, span), async () => {
    try {
      const observed = await observe(spec, msg, span);
      const settlement = settle({ ...observed, attempt, maxDeliver: spec.maxDeliver, backoffMs: spec.backoffMs });
      outcome = settlement.metricOutcome;
      reportFailure(observed, settlement, span, deps.logger, { subject, consumer: spec.group, attempt });
      if (settlement.action === 'ack') msg.ack();
      else if (settlement.action === 'nak') msg.nak(settlement.delayMs);
      else {
        await writeDeadLetter(deps.js, spec, msg, settlement.reason).catch((err: unknown) => deps.logger.error({ err }, 'dead-lettering failed'));
        // No reason on the term itself (the dead letter carries it): nats-server 2.9 does not parse `+TERM <reason>`
        // and leaves such a message pending until its ack wait runs out, holding one of the consumer's slots.
        msg.term();
      }
    } finally {
      const labels = { 'messaging.consumer.group.name': spec.group, 'messaging.destination.name': subject, outcome };
      consumedCounter.add(1, labels);
      handleLatency.record((performance.now() - started) / 1000, labels);
      span.end();
    }
  });
}
