import { evaluate, type InvariantResult } from './rules';
import { readSnapshot, type Sources } from './snapshot';

export * from './rules';
export { readSnapshot, type Sources } from './snapshot';

export interface CheckOptions extends Sources {
  /** Order ids the gateway answered 202 for (a test's record): also checks that none is missing from the event store. */
  acceptedOrderIds?: readonly string[];
  /** The notification service's NOTIFICATION_RETENTION_DAYS (default 30): older sent notifications are deleted. */
  notificationRetentionDays?: number;
  now?: Date;
}

/**
 * Checks the system's invariants against what each service stored and what JetStream holds: every accepted order
 * terminal, event streams gap-free, money and stock accounted for, one notification per outcome, nothing left
 * unconsumed, nothing valid dead-lettered. Meaningful once the system has settled (no load, consumers caught up).
 */
export async function checkInvariants(options: CheckOptions): Promise<InvariantResult[]> {
  const snapshot = await readSnapshot(options);
  const now = options.now ?? new Date();
  return evaluate(snapshot, {
    ...(options.acceptedOrderIds ? { acceptedOrderIds: options.acceptedOrderIds } : {}),
    notificationRetentionCutoff: new Date(now.getTime() - (options.notificationRetentionDays ?? 30) * 24 * 3600_000),
  });
}

/**
 * Checks again every few seconds until every invariant holds or `timeoutMs` passes (sagas finishing or timing out,
 * consumers catching up), and returns the last results; a checker that cannot read counts as a violation.
 */
export async function checkUntilSettled(options: CheckOptions, timeoutMs: number, intervalMs = 3_000): Promise<InvariantResult[]> {
  const deadline = Date.now() + timeoutMs;
  let results: InvariantResult[] = [];
  for (let check = 0; check < Math.ceil(timeoutMs / intervalMs) + 1; check++) {
    results = await checkInvariants(options).catch((err: unknown) => [{ name: 'checker', ok: false, count: 1, detail: String(err) }]);
    if (results.every((r) => r.ok) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return results;
}
