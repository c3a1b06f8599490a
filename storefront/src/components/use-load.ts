import { useCallback, useEffect, useRef, useState } from 'react';
import { retryAtOf } from './ErrorNotice';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** When a retry is allowed (Retry-After), for the error notice. */
  retryAt: number | undefined;
  reload: () => void;
}

/**
 * Loads data for a page and, with `pollMs`, refreshes it while `keepPolling(data)` holds, at most `maxPolls`
 * times (a page left open does not poll forever). A failed refresh keeps the last data and waits for
 * Retry-After before the next try.
 */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
  poll?: { pollMs: number; keepPolling: (data: T) => boolean; maxPolls?: number },
): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean; retryAt: number | undefined }>({
    data: undefined,
    error: undefined,
    loading: true,
    retryAt: undefined,
  });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const pollRef = useRef(poll);
  pollRef.current = poll;

  useEffect(() => {
    const controller = new AbortController();
    let timer: number | undefined;
    let polls = 0;
    const run = async () => {
      try {
        const data = await loadRef.current(controller.signal);
        if (controller.signal.aborted) return;
        setState({ data, error: undefined, loading: false, retryAt: undefined });
        const p = pollRef.current;
        if (p && polls < (p.maxPolls ?? 120) && p.keepPolling(data)) {
          polls += 1;
          timer = window.setTimeout(() => void run(), p.pollMs);
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        setState((s) => ({ data: s.data, error, loading: false, retryAt: retryAtOf(error) }));
      }
    };
    setState((s) => ({ ...s, loading: true }));
    void run();
    return () => {
      controller.abort();
      if (timer !== undefined) window.clearTimeout(timer);
    };
  }, [...deps, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}
