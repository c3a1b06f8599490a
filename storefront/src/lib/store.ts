import { useSyncExternalStore } from 'react';

/**
 * A tiny observable value kept in Web Storage (the cart, the session): components subscribe with `useStore`,
 * and a change in another tab (the `storage` event) is picked up too.
 */
export interface Store<T> {
  get: () => T;
  set: (value: T) => void;
  subscribe: (listener: () => void) => () => void;
}

export function storedValue<T>(storage: () => Storage | undefined, key: string, parse: (json: string | null) => T, serialize: (value: T) => string | null): Store<T> {
  const listeners = new Set<() => void>();
  const read = (): T => {
    try {
      return parse(storage()?.getItem(key) ?? null);
    } catch {
      return parse(null);
    }
  };
  let current = read();
  const notify = () => listeners.forEach((l) => l());
  if (typeof window !== 'undefined') {
    window.addEventListener('storage', (event) => {
      if (event.key === key) {
        current = read();
        notify();
      }
    });
  }
  return {
    get: () => current,
    set(value) {
      current = value;
      try {
        const json = serialize(value);
        if (json === null) storage()?.removeItem(key);
        else storage()?.setItem(key, json);
      } catch {
        // Storage full or disabled: the value still lives for this page.
      }
      notify();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export const useStore = <T>(store: Store<T>): T => useSyncExternalStore(store.subscribe, store.get, store.get);

export const local = (): Storage | undefined => (typeof localStorage === 'undefined' ? undefined : localStorage);
export const session = (): Storage | undefined => (typeof sessionStorage === 'undefined' ? undefined : sessionStorage);
