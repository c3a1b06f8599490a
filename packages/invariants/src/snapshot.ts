import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { MongoClient, type Db } from 'mongodb';
import { stockLedger } from '@tracemart/inventory-service/stock-ledger';
import type { ConsumerRow, DeadLetterRow, LedgerRow, NotificationRow, OrderEventRow, Snapshot } from './rules';

export interface Sources {
  /** The MongoDB-wire server holding every service's database. */
  mongoUrl: string;
  /** One NATS server, or the cluster's nodes comma-separated. */
  natsUrl: string;
  /** Database names are `<dbPrefix><service>` (the services' default: `tracemart_order`, ...). */
  dbPrefix?: string;
}

/** How many dead letters are read one by one for their reasons; the rest are counted, unread. */
const MAX_DEAD_LETTERS = 5_000;
const DEAD_LETTER_STREAM = 'DEADLETTER';

/**
 * Reads what the invariants need straight from each service's own database (the collections its data modules
 * write) and from JetStream: never through a service's HTTP API, so a service that is down or wrong cannot vouch
 * for itself. Read-only.
 */
export async function readSnapshot({ mongoUrl, natsUrl, dbPrefix = 'tracemart_' }: Sources): Promise<Snapshot> {
  const mongo = new MongoClient(mongoUrl, { appName: 'invariants', serverSelectionTimeoutMS: 5_000, connectTimeoutMS: 5_000, retryWrites: false });
  await mongo.connect();
  try {
    const nc = await connect({ servers: natsUrl.split(','), name: 'invariants', maxReconnectAttempts: 10, noAsyncTraces: true });
    try {
      const jsm = await jetstreamManager(nc);
      const db = (service: string) => mongo.db(`${dbPrefix}${service}`);
      // One after the other: FerretDB and the 2-core machines this runs on do better with one query at a time.
      const orderEvents = await readOrderEvents(db('order'));
      const ledger = await readLedger(db('payment'));
      const stock = await stockLedger(db('inventory'));
      const notifications = await readNotifications(db('notification'));
      const consumers = await readConsumers(jsm);
      const { letters, unread } = await readDeadLetters(jsm);
      return { orderEvents, ledger, stock, notifications, consumers, deadLetters: letters, deadLettersUnread: unread };
    } finally {
      await nc.close();
    }
  } finally {
    await mongo.close();
  }
}

interface OrderEventDocument {
  streamId: string;
  version: number;
  type: string;
  occurredAt: Date;
  data?: { items?: { productId: string; quantity: number }[]; totalCents?: number; reason?: string };
}

/** services/order/src/data/event-store.ts: `order_events`, one document per event, `streamId` = order id. */
async function readOrderEvents(db: Db): Promise<OrderEventRow[]> {
  const docs = db
    .collection<OrderEventDocument>('order_events')
    .find({}, { projection: { _id: 0, streamId: 1, version: 1, type: 1, occurredAt: 1, 'data.items': 1, 'data.totalCents': 1, 'data.reason': 1 } });
  const rows: OrderEventRow[] = [];
  for await (const doc of docs) {
    rows.push({
      orderId: doc.streamId,
      version: doc.version,
      type: doc.type,
      at: doc.occurredAt,
      ...(doc.type === 'orders.placed'
        ? { items: (doc.data?.items ?? []).map(({ productId, quantity }) => ({ productId, quantity })), totalCents: doc.data?.totalCents ?? 0 }
        : {}),
      ...(doc.type === 'orders.cancelled' && doc.data?.reason ? { reason: doc.data.reason } : {}),
    });
  }
  return rows;
}

/** services/payment/src/data/ledger.ts: `payment_ledger`, append-only, `streamId` = order id. */
async function readLedger(db: Db): Promise<LedgerRow[]> {
  const docs = await db
    .collection<{ streamId: string; version: number; type: string; amountCents: number }>('payment_ledger')
    .find({}, { projection: { _id: 0, streamId: 1, version: 1, type: 1, amountCents: 1 } })
    .toArray();
  return docs.map((doc) => ({ orderId: doc.streamId, version: doc.version, type: doc.type, amountCents: doc.amountCents }));
}

/** services/notification/src/data/notifications.ts: `notifications`, one document per order and kind. */
async function readNotifications(db: Db): Promise<NotificationRow[]> {
  const docs = await db
    .collection<{ orderId: string; kind: string; status: string }>('notifications')
    .find({}, { projection: { _id: 0, orderId: 1, kind: 1, status: 1 } })
    .toArray();
  return docs.map(({ orderId, kind, status }) => ({ orderId, kind, status }));
}

/** Every durable consumer of every stream (ordered and other ephemeral consumers come and go, and own no work). */
async function readConsumers(jsm: JetStreamManager): Promise<ConsumerRow[]> {
  const rows: ConsumerRow[] = [];
  for await (const stream of jsm.streams.list()) {
    for await (const consumer of jsm.consumers.list(stream.config.name)) {
      if (!consumer.config.durable_name) continue;
      rows.push({ stream: stream.config.name, name: consumer.name, numPending: consumer.num_pending, numAckPending: consumer.num_ack_pending });
    }
  }
  return rows;
}

/** The DEADLETTER stream (platform's dead-letters.ts writes one JSON letter per message a consumer gave up on). */
async function readDeadLetters(jsm: JetStreamManager): Promise<{ letters: DeadLetterRow[]; unread: number }> {
  const info = await jsm.streams.info(DEAD_LETTER_STREAM).catch((err: unknown) => {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return null;
    throw err;
  });
  if (!info || info.state.messages === 0) return { letters: [], unread: 0 };
  const letters: DeadLetterRow[] = [];
  let read = 0;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && read < MAX_DEAD_LETTERS; seq += 1) {
    // Deleted sequences (a re-driven letter) leave holes: null.
    const stored = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { seq });
    if (!stored) continue;
    read += 1;
    const letter = parseLetter(stored.string());
    letters.push(letter ?? { consumer: '?', subject: stored.subject, reason: 'unreadable dead letter' });
  }
  return { letters, unread: Math.max(0, info.state.messages - read) };
}

function parseLetter(text: string): DeadLetterRow | null {
  try {
    const value = JSON.parse(text) as { consumer?: unknown; subject?: unknown; reason?: unknown };
    if (typeof value.reason !== 'string') return null;
    return { consumer: String(value.consumer ?? '?'), subject: String(value.subject ?? '?'), reason: value.reason };
  } catch {
    return null;
  }
}
