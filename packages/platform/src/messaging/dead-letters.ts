import { randomUUID } from 'node:crypto';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { DeadLetter, EventBus } from './bus';

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
