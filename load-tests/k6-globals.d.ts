// Globals the k6 runtime has and @types/k6 leaves out (load-tests/tsconfig.json; excluded from the root project).
declare const console: Record<'log' | 'info' | 'warn' | 'error' | 'debug', (...args: unknown[]) => void>;
declare const crypto: { randomUUID(): string; getRandomValues<T extends ArrayBufferView>(array: T): T };
