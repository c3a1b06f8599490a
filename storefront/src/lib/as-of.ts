/**
 * The order page's time slider over `GET /api/orders/:id?asOf=`: its scale runs from the order's first event to
 * its last (in milliseconds, since a saga usually settles in well under a second), and each position names an
 * instant to ask the order service about. Pure, so the maths is tested without a browser.
 */
export interface TimeScale {
  /** ms since the epoch of the first event (the order was placed). */
  startMs: number;
  /** ms since the epoch of the last event; equal to startMs while there is only one. */
  endMs: number;
}

export function timeScale(eventTimes: readonly string[]): TimeScale | undefined {
  const times = eventTimes.map((t) => Date.parse(t)).filter((t) => Number.isFinite(t));
  if (times.length === 0) return undefined;
  return { startMs: Math.min(...times), endMs: Math.max(...times) };
}

/** The slider's range: offsets in ms from the first event. */
export const sliderMax = (scale: TimeScale): number => Math.max(0, Math.round(scale.endMs - scale.startMs));

/** The instant (ISO 8601, ms precision, UTC) at a slider offset, clamped to the scale. */
export function instantAt(scale: TimeScale, offsetMs: number): string {
  const clamped = Math.min(sliderMax(scale), Math.max(0, Math.round(offsetMs)));
  return new Date(scale.startMs + clamped).toISOString();
}

/** The slider offset of an instant, clamped to the scale. */
export function offsetOf(scale: TimeScale, instant: string): number {
  const at = Date.parse(instant);
  if (!Number.isFinite(at)) return sliderMax(scale);
  return Math.min(sliderMax(scale), Math.max(0, Math.round(at - scale.startMs)));
}

/** Events that had happened by an instant: what the order looked like then is built from these. */
export function eventsUpTo<T extends { occurredAt: string }>(events: readonly T[], instant: string): T[] {
  const at = Date.parse(instant);
  return events.filter((e) => Date.parse(e.occurredAt) <= at);
}

/** "+123 ms" after the first event; "+1.25 s" past a second. */
export function describeOffset(offsetMs: number): string {
  return offsetMs < 1000 ? `+${Math.round(offsetMs)} ms` : `+${(offsetMs / 1000).toFixed(2)} s`;
}
