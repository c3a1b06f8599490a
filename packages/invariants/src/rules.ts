/**
 * The system's invariants as pure functions over what the checker read (snapshot.ts says from where). Each returns
 * `{ name, ok, count, detail }`: `count` is how many things violate it (orders, products, consumers, messages), `detail`
 * says what was looked at and names the first few offenders, so a failed run says what to open next.
 */

export interface InvariantResult {
  name: string;
  ok: boolean;
  count: number;
  detail: string;
}

/** One event of the order event store, with what the checks need of its data. */
export interface OrderEventRow {
  orderId: string;
  version: number;
  type: string;
  at: Date;
  /** orders.placed only. */
  items?: { productId: string; quantity: number }[];
  totalCents?: number;
  /** orders.cancelled only: OUT_OF_STOCK, PAYMENT_DECLINED, SAGA_TIMEOUT. */
  reason?: string;
}

/** One entry of the payment ledger. */
export interface LedgerRow {
  orderId: string;
  version: number;
  type: string;
  amountCents: number;
}

/** One product's stock as the inventory service's stock ledger accounts for it. */
export interface StockRow {
  productId: string;
  initial: number;
  available: number;
  reserved: number;
  sold: number;
}

export interface NotificationRow {
  orderId: string;
  kind: string;
  status: string;
}

export interface ConsumerRow {
  stream: string;
  name: string;
  numPending: number;
  numAckPending: number;
}

export interface DeadLetterRow {
  consumer: string;
  subject: string;
  reason: string;
}

/** Everything the invariants are evaluated on: each service's own records and the broker's state. */
export interface Snapshot {
  orderEvents: OrderEventRow[];
  ledger: LedgerRow[];
  stock: StockRow[];
  notifications: NotificationRow[];
  consumers: ConsumerRow[];
  deadLetters: DeadLetterRow[];
  /** Dead letters beyond what was read (see snapshot.ts): unclassified, so they count as violations. */
  deadLettersUnread: number;
}

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';

/** One order as its event stream tells it, with what is wrong with the stream itself. */
export interface OrderFacts {
  orderId: string;
  /** Undefined when the stream does not start with orders.placed: not an accepted order. */
  status?: OrderStatus;
  items: { productId: string; quantity: number }[];
  totalCents: number;
  /** When it reached its terminal state. */
  settledAt?: Date;
  /** Why it was cancelled. */
  reason?: string;
  /** Why its stream is not versions 1..n starting with orders.placed and ending at most once in a terminal event. */
  sequenceProblems: string[];
}

const TERMINAL: Record<string, OrderStatus> = { 'orders.confirmed': 'CONFIRMED', 'orders.cancelled': 'CANCELLED' };

/** How many offenders a detail names before "…". */
const EXAMPLES = 5;

const examples = (items: readonly string[], limit = EXAMPLES): string => (items.length > limit ? `${items.slice(0, limit).join('; ')}; …` : items.join('; '));
/** Dead letters are listed by consumer and reason, a handful of groups: all of them up to this many. */
const REASON_GROUPS = 20;

function result(name: string, count: number, checked: string, offenders: readonly string[]): InvariantResult {
  return { name, ok: count === 0, count, detail: count === 0 ? checked : `${checked}; ${examples(offenders)}` };
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

/**
 * Folds each order's stream the way the order aggregate does (placed, then at most one of confirmed / cancelled) and
 * records every departure from that shape: a gap or repeat in the versions, a stream not starting with orders.placed,
 * a second placed or terminal event, anything after the terminal one.
 */
export function foldOrders(events: readonly OrderEventRow[]): Map<string, OrderFacts> {
  const orders = new Map<string, OrderFacts>();
  for (const [orderId, stream] of groupBy(events, (e) => e.orderId)) {
    const sorted = [...stream].sort((a, b) => a.version - b.version);
    const problems: string[] = [];
    const versions = sorted.map((e) => e.version);
    const expected = sorted.map((_, i) => i + 1);
    if (versions.join(',') !== expected.join(',')) problems.push(`versions ${versions.join(',')}`);
    const first = sorted[0];
    const facts: OrderFacts = { orderId, items: [], totalCents: 0, sequenceProblems: problems };
    if (first?.type === 'orders.placed' && first.version === 1) {
      facts.status = 'PENDING';
      facts.items = first.items ?? [];
      facts.totalCents = first.totalCents ?? 0;
    } else {
      problems.push(`first event ${first?.type ?? 'none'} v${first?.version ?? '-'}`);
    }
    for (const event of sorted.slice(1)) {
      if (event.type === 'orders.placed') {
        problems.push(`second orders.placed at v${event.version}`);
        continue;
      }
      const terminal = TERMINAL[event.type];
      if (!terminal) {
        problems.push(`unknown event ${event.type} at v${event.version}`);
        continue;
      }
      if (facts.status !== 'PENDING') {
        problems.push(`${event.type} at v${event.version} after ${facts.status ?? 'no placement'}`);
        continue;
      }
      facts.status = terminal;
      facts.settledAt = event.at;
      if (event.reason) facts.reason = event.reason;
    }
    orders.set(orderId, facts);
  }
  return orders;
}

const accepted = (orders: Map<string, OrderFacts>): OrderFacts[] => [...orders.values()].filter((o) => o.status !== undefined);

/** Every accepted order reached CONFIRMED or CANCELLED (the detail also says how they ended, cancellations by reason). */
export function ordersTerminal(orders: Map<string, OrderFacts>): InvariantResult {
  const all = accepted(orders);
  const pending = all.filter((o) => o.status === 'PENDING');
  const confirmed = all.filter((o) => o.status === 'CONFIRMED').length;
  const reasons = new Map<string, number>();
  for (const order of all) if (order.status === 'CANCELLED') reasons.set(order.reason ?? 'no reason', (reasons.get(order.reason ?? 'no reason') ?? 0) + 1);
  const cancelled = [...reasons.values()].reduce((a, b) => a + b, 0);
  const byReason = [...reasons.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([reason, n]) => `${reason} ${n}`);
  const outcomes = `${confirmed} CONFIRMED, ${cancelled} CANCELLED${byReason.length > 0 ? ` (${byReason.join(', ')})` : ''}`;
  return result(
    'orders-terminal',
    pending.length,
    `${all.length} accepted orders: ${outcomes}, ${pending.length} not terminal`,
    pending.map((o) => `${o.orderId} PENDING`),
  );
}

/** Per order: versions 1..n, orders.placed first, one terminal event at most and nothing after it. */
export function orderEventSequence(orders: Map<string, OrderFacts>): InvariantResult {
  const bad = [...orders.values()].filter((o) => o.sequenceProblems.length > 0);
  return result(
    'order-event-sequence',
    bad.length,
    `${orders.size} order streams`,
    bad.map((o) => `${o.orderId}: ${o.sequenceProblems.join(', ')}`),
  );
}

/** Every order the gateway accepted (202) is in the event store as an accepted order: none lost. */
export function acceptedOrdersStored(orders: Map<string, OrderFacts>, acceptedIds: readonly string[]): InvariantResult {
  const unique = [...new Set(acceptedIds)];
  const missing = unique.filter((id) => orders.get(id)?.status === undefined);
  return result('accepted-orders-stored', missing.length, `${unique.length} orders answered 202, ${missing.length} missing from the event store`, missing);
}

/** Money moved for one order, by the ledger. */
export interface LedgerSums {
  charges: number;
  chargedCents: number;
  refunds: number;
  refundedCents: number;
}

/** Sums each order's ledger entries: how many charges and refunds, and how much each moved. */
export function ledgerSums(rows: readonly LedgerRow[]): Map<string, LedgerSums> {
  const sums = new Map<string, LedgerSums>();
  for (const row of rows) {
    const sum = sums.get(row.orderId) ?? { charges: 0, chargedCents: 0, refunds: 0, refundedCents: 0 };
    if (row.type === 'charged') {
      sum.charges += 1;
      sum.chargedCents += row.amountCents;
    } else if (row.type === 'refunded') {
      sum.refunds += 1;
      sum.refundedCents += row.amountCents;
    }
    sums.set(row.orderId, sum);
  }
  return sums;
}

const NO_MONEY: LedgerSums = { charges: 0, chargedCents: 0, refunds: 0, refundedCents: 0 };
const describeSums = (s: LedgerSums) => `${s.charges} charge(s) ${s.chargedCents}c, ${s.refunds} refund(s) ${s.refundedCents}c`;

/**
 * The three money invariants, from the ledger's sums per order:
 *   payment-captured-at-most-once   no order charged twice, and no charge for an order the order service never accepted;
 *   cancelled-charges-refunded      a cancelled order's every charge refunded exactly once (net zero);
 *   confirmed-orders-charged        a confirmed order charged exactly once, its total, and not refunded.
 */
export function paymentInvariants(orders: Map<string, OrderFacts>, rows: readonly LedgerRow[]): InvariantResult[] {
  const sums = ledgerSums(rows);
  const twice: string[] = [];
  for (const [orderId, sum] of sums) {
    const order = orders.get(orderId);
    if (sum.charges > 1) twice.push(`${orderId}: ${describeSums(sum)}`);
    else if (sum.charges > 0 && order?.status === undefined) twice.push(`${orderId}: charged ${sum.chargedCents}c without an accepted order`);
  }
  const cancelled = accepted(orders).filter((o) => o.status === 'CANCELLED');
  const unrefunded = cancelled.flatMap((o) => {
    const sum = sums.get(o.orderId) ?? NO_MONEY;
    return sum.refunds === sum.charges && sum.refundedCents === sum.chargedCents ? [] : [`${o.orderId}: ${describeSums(sum)}`];
  });
  const confirmed = accepted(orders).filter((o) => o.status === 'CONFIRMED');
  const mischarged = confirmed.flatMap((o) => {
    const sum = sums.get(o.orderId) ?? NO_MONEY;
    return sum.charges === 1 && sum.chargedCents === o.totalCents && sum.refunds === 0 ? [] : [`${o.orderId} (total ${o.totalCents}c): ${describeSums(sum)}`];
  });
  return [
    result('payment-captured-at-most-once', twice.length, `${sums.size} orders in the payment ledger`, twice),
    result('cancelled-charges-refunded', unrefunded.length, `${cancelled.length} cancelled orders`, unrefunded),
    result('confirmed-orders-charged', mischarged.length, `${confirmed.length} confirmed orders`, mischarged),
  ];
}

/**
 * Stock per product: initial = available + reserved + sold with nothing negative (stock-conserved), and nothing left
 * reserved once every order settled (stock-settled).
 */
export function stockInvariants(stock: readonly StockRow[]): InvariantResult[] {
  const unbalanced = stock.flatMap((s) => {
    const negative = s.initial < 0 || s.available < 0 || s.reserved < 0 || s.sold < 0;
    const balanced = s.initial === s.available + s.reserved + s.sold;
    return balanced && !negative ? [] : [`${s.productId}: initial ${s.initial} vs available ${s.available} + reserved ${s.reserved} + sold ${s.sold}`];
  });
  const reserved = stock.filter((s) => s.reserved !== 0);
  return [
    result('stock-conserved', unbalanced.length, `${stock.length} products`, unbalanced),
    result(
      'stock-settled',
      reserved.length,
      `${stock.length} products, ${reserved.reduce((n, s) => n + s.reserved, 0)} units still reserved`,
      reserved.map((s) => `${s.productId}: reserved ${s.reserved}`),
    ),
  ];
}

/**
 * Units sold per product (inventory's ledger) = units of the CONFIRMED orders (order event store): across the two
 * databases, no stock invented (sold without an order) and none lost (an order confirmed without its units leaving).
 */
export function soldMatchesConfirmed(orders: Map<string, OrderFacts>, stock: readonly StockRow[]): InvariantResult {
  const ordered = new Map<string, number>();
  for (const order of accepted(orders)) {
    if (order.status !== 'CONFIRMED') continue;
    for (const line of order.items) ordered.set(line.productId, (ordered.get(line.productId) ?? 0) + line.quantity);
  }
  const sold = new Map(stock.map((s) => [s.productId, s.sold]));
  const products = [...new Set([...ordered.keys(), ...sold.keys()])].sort();
  const differ = products.filter((p) => (ordered.get(p) ?? 0) !== (sold.get(p) ?? 0));
  const totalOrdered = [...ordered.values()].reduce((a, b) => a + b, 0);
  const totalSold = [...sold.values()].reduce((a, b) => a + b, 0);
  return result(
    'sold-matches-confirmed',
    differ.length,
    `${totalSold} units sold, ${totalOrdered} units in confirmed orders`,
    differ.map((p) => `${p}: sold ${sold.get(p) ?? 'unknown product'}, confirmed ${ordered.get(p) ?? 0}`),
  );
}

const KIND_OF: Record<string, string> = { CONFIRMED: 'order-confirmed', CANCELLED: 'order-cancelled' };

/**
 * Exactly one notification per terminal order, of the kind its outcome calls for, and sent. Orders that settled before
 * `retentionCutoff` are not expected to have one any more (the notification service deletes sent ones after its
 * retention); notifications for an order that is not terminal count as extra.
 */
export function notificationPerTerminalOrder(orders: Map<string, OrderFacts>, notifications: readonly NotificationRow[], retentionCutoff?: Date): InvariantResult {
  const byOrder = groupBy(notifications, (n) => n.orderId);
  const terminal = accepted(orders).filter((o) => o.status === 'CONFIRMED' || o.status === 'CANCELLED');
  let missing = 0;
  let duplicated = 0;
  let unsent = 0;
  let expired = 0;
  const offenders: string[] = [];
  for (const order of terminal) {
    const kind = KIND_OF[order.status ?? ''];
    const found = byOrder.get(order.orderId) ?? [];
    byOrder.delete(order.orderId);
    if (found.length === 0) {
      if (retentionCutoff && order.settledAt && order.settledAt < retentionCutoff) {
        expired += 1;
        continue;
      }
      missing += 1;
      offenders.push(`${order.orderId} ${order.status}: none`);
    } else if (found.length > 1 || found[0]?.kind !== kind) {
      duplicated += 1;
      offenders.push(`${order.orderId} ${order.status}: ${found.map((n) => n.kind).join(', ')}`);
    } else if (found[0]?.status !== 'SENT') {
      unsent += 1;
      offenders.push(`${order.orderId} ${order.status}: ${found[0]?.status ?? '?'}`);
    }
  }
  const extra = [...byOrder.entries()];
  for (const [orderId, found] of extra) offenders.push(`${orderId} (${orders.get(orderId)?.status ?? 'unknown order'}): ${found.map((n) => n.kind).join(', ')}`);
  const count = missing + duplicated + unsent + extra.length;
  const checked =
    `${terminal.length} terminal orders: ${missing} missing, ${duplicated} duplicated or of the wrong kind, ${unsent} not sent, ` +
    `${extra.length} for orders not terminal${expired > 0 ? `, ${expired} past retention (not checked)` : ''}`;
  return result('notification-per-terminal-order', count, checked, offenders);
}

/** No durable consumer has anything left: nothing pending delivery, nothing delivered and unacknowledged. */
export function consumerBacklogDrained(consumers: readonly ConsumerRow[]): InvariantResult {
  const behind = consumers.filter((c) => c.numPending + c.numAckPending > 0);
  const messages = behind.reduce((n, c) => n + c.numPending + c.numAckPending, 0);
  return result(
    'consumer-backlog-drained',
    messages,
    `${consumers.length} durable consumers, ${messages} messages outstanding`,
    behind.map((c) => `${c.stream}/${c.name}: ${c.numPending} pending, ${c.numAckPending} unacknowledged`),
  );
}

/** Why a consumer gives up on a message that could never be processed (platform settlement: `invalid message: …`). */
export const INVALID_MESSAGE_REASON = /^invalid message:/;

/** Dead letters only for invalid messages: a valid message dead-lettered (out of attempts, a bug) is lost work. */
export function deadLettersInvalidOnly(letters: readonly DeadLetterRow[], unread = 0): InvariantResult {
  const reasons = new Map<string, number>();
  for (const letter of letters) {
    const key = `${letter.consumer}: ${letter.reason.slice(0, 160)}`;
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  const valid = letters.filter((l) => !INVALID_MESSAGE_REASON.test(l.reason)).length + unread;
  const listed = [...reasons.entries()].sort(([, a], [, b]) => b - a).map(([reason, n]) => `${n}× ${reason}`);
  const summary = `${letters.length + unread} dead letters, ${valid} not for an invalid message${unread > 0 ? ` (${unread} unread)` : ''}`;
  return { name: 'dead-letters-invalid-only', ok: valid === 0, count: valid, detail: listed.length > 0 ? `${summary}; ${examples(listed, REASON_GROUPS)}` : summary };
}

export interface EvaluateOptions {
  /** Order ids the gateway answered 202 for (a test's record): adds accepted-orders-stored. */
  acceptedOrderIds?: readonly string[];
  /** Orders settled before this may have had their notification deleted by the retention sweep. */
  notificationRetentionCutoff?: Date;
}

/** Every invariant over one snapshot, in a stable order. */
export function evaluate(snapshot: Snapshot, options: EvaluateOptions = {}): InvariantResult[] {
  const orders = foldOrders(snapshot.orderEvents);
  return [
    ordersTerminal(orders),
    ...(options.acceptedOrderIds ? [acceptedOrdersStored(orders, options.acceptedOrderIds)] : []),
    orderEventSequence(orders),
    ...paymentInvariants(orders, snapshot.ledger),
    ...stockInvariants(snapshot.stock),
    soldMatchesConfirmed(orders, snapshot.stock),
    notificationPerTerminalOrder(orders, snapshot.notifications, options.notificationRetentionCutoff),
    consumerBacklogDrained(snapshot.consumers),
    deadLettersInvalidOnly(snapshot.deadLetters, snapshot.deadLettersUnread),
  ];
}

/** The report as lines: one per invariant, with its count and detail. */
export function formatReport(results: readonly InvariantResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  return results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(width)} ${String(r.count).padStart(5)}  ${r.detail}`).join('\n');
}
