import { useEffect, useState } from 'react';

/** Seconds left until `untilMs` (0 when past or undefined), ticking once a second. */
export function useCountdown(untilMs: number | undefined): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (untilMs === undefined || untilMs <= Date.now()) return;
    const timer = window.setInterval(() => {
      const t = Date.now();
      setNow(t);
      if (t >= untilMs) window.clearInterval(timer);
    }, 250);
    return () => window.clearInterval(timer);
  }, [untilMs]);
  return untilMs === undefined ? 0 : Math.max(0, Math.ceil((untilMs - now) / 1000));
}
