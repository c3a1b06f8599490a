/**
 * A stored document as the plain object a use case sees: its `_id` under the domain's own name, and the embedded
 * outbox (storage bookkeeping) left out. The document must hold every field of `T` (checked by the compiler).
 */
export function fromDocument<T extends object, K extends keyof T & string>(doc: Omit<T, K> & { _id: T[K]; outbox?: unknown; outboxPending?: unknown }, idField: K): T {
  const { _id, outbox: _outbox, outboxPending: _pending, ...fields } = doc;
  return { ...fields, [idField]: _id } as T;
}
