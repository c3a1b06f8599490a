/**
 * The payment ledger of one order: an append-only stream of money movements. Balance and status are
 * derived by replaying it, at any point in time (`asOf`).
 */
export type LedgerEntryType = 'charged' | 'declined' | 'refunded';

export interface LedgerEntry {
  type: LedgerEntryType;
  amountCents: number;
  version: number;
  at: Date;
}

export interface LedgerState {
  balanceCents: number;
  status: 'NONE' | 'CHARGED' | 'DECLINED' | 'REFUNDED';
  version: number;
}

export function replayLedger(entries: readonly LedgerEntry[], asOf?: Date): LedgerState {
  let state: LedgerState = { balanceCents: 0, status: 'NONE', version: 0 };
  for (const entry of [...entries].sort((a, b) => a.version - b.version)) {
    if (asOf && entry.at.getTime() > asOf.getTime()) break;
    switch (entry.type) {
      case 'charged':
        state = { balanceCents: state.balanceCents + entry.amountCents, status: 'CHARGED', version: entry.version };
        break;
      case 'declined':
        state = { ...state, status: 'DECLINED', version: entry.version };
        break;
      case 'refunded':
        state = { balanceCents: state.balanceCents - entry.amountCents, status: 'REFUNDED', version: entry.version };
        break;
    }
  }
  return state;
}

/** A refund is owed when the order was cancelled after money was taken and not yet given back. */
export function refundDue(state: LedgerState): number {
  return state.status === 'CHARGED' ? state.balanceCents : 0;
}
