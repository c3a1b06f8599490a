import { randomUUID } from 'node:crypto';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { getMeter } from '../telemetry/metrics';
import type { EventBus } from './bus';

/** What the DEADLETTER stream holds for one message that could not be processed. */
export interface DeadLetter {
  consumer: string;
  stream: string;
  subject: string;
  streamSequence: number;
  deliveryCount: number;
  reason: string;
  at: string;
  headers: Record<string, string>;
  /** The original message body, as received. */
  payload: string;
}

/** Messages moved to the DEADLETTER stream, by stream and consumer. */
const deadLettered = getMeter().createCounter('tracemart.deadletter', { unit: '{message}', description: 'Messages dead-lettered' });

/**
 * Dead-letter queue: a message that can never succeed (invalid, poisoned, out of attempts) is copied,
 * with why and where from, to `deadletter.<consumer>` on the DEADLETTER stream before it is termed.
 * It can be listed and re-driven (see DeadLetters); its msgID (consumer and stream sequence) lets JetStream drop a second copy.
 */
export async function writeDeadLetter(js: JetStreamClient, consumer: { stream: string; group: string }, msg: JsMsg, reason: string): Promise<void> {
  const headers: Record<string, string> = {};
  for (const key of msg.headers?.keys() ?? []) headers[key] = msg.headers?.get(key) ?? '';
  const letter: DeadLetter = {
    consumer: consumer.group,
    stream: consumer.stream,
    subject: msg.subject,
    streamSequence: msg.info.streamSequence,
    deliveryCount: msg.info.deliveryCount,
    reason,
    at: new Date().toISOString(),
    headers,
    payload: msg.string(),
  };
  await js.publish(`deadletter.${consumer.group}`, JSON.stringify(letter), { msgID: `${consumer.group}:${msg.info.streamSequence}` });
  deadLettered.add(1, { stream: consumer.stream, consumer: consumer.group });
}

export interface ListedDeadLetter extends DeadLetter {
  /** Sequence in the DEADLETTER stream: the handle for re-driving it. */
  sequence: number;
}

/**
 * Lists and re-drives the dead letters of some consumers. Re-driving republishes the original message
 * to its original subject (with its trace headers and a fresh msgID, so JetStream does not drop it as a
 * duplicate) and removes it from the DEADLETTER stream.
 */
export class DeadLetters {
  constructor(
    private readonly bus: EventBus,
    private readonly consumers: string[],
    private readonly stream = 'DEADLETTER',
  ) {}

  async list(limit = 100): Promise<ListedDeadLetter[]> {
    const letters: ListedDeadLetter[] = [];
    const info = await this.bus.jsm.streams.info(this.stream);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && letters.length < limit; seq += 1) {
      const stored = await this.bus.jsm.streams.getMessage(this.stream, { seq }).catch(() => null);
      if (!stored) continue;
      const letter = stored.json<DeadLetter>();
      if (this.consumers.includes(letter.consumer)) letters.push({ ...letter, sequence: seq });
    }
    return letters;
  }

  /** Returns false when no such dead letter belongs to these consumers. */
  async redrive(sequence: number): Promise<boolean> {
    const stored = await this.bus.jsm.streams.getMessage(this.stream, { seq: sequence }).catch(() => null);
    if (!stored) return false;
    const letter = stored.json<DeadLetter>();
    if (!this.consumers.includes(letter.consumer)) return false;
    const hdrs = natsHeaders();
    for (const [key, value] of Object.entries(letter.headers)) if (key !== 'Nats-Msg-Id') hdrs.set(key, value);
    await this.bus.js.publish(letter.subject, letter.payload, { headers: hdrs, msgID: `redrive:${randomUUID()}` });
    await this.bus.jsm.streams.deleteMessage(this.stream, sequence);
    return true;
  }
}
