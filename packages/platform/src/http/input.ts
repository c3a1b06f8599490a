import type { z } from 'zod';
import { AppError } from '../errors';

const MAX_DEPTH = 8;

/** Whether `text` holds a C0 control character or DEL; tab, line feed and carriage return are text. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return true;
  }
  return false;
}

export interface UnsafeInput {
  code: 'REQUEST.FORBIDDEN_KEY' | 'REQUEST.CONTROL_CHARACTER';
  /** Where, as `items.1.productId` (`(root)` for the value itself); a control character in a key shows as `?`. */
  path: string;
}

/**
 * The first thing in a request body, query or path that must not reach a service's database, or undefined:
 * - keys that MongoDB would read as operators or paths (`$gt`, `a.b`, `__proto__`), or nesting past 8 levels, so
 *   that no user input can become a query operator (NoSQL injection); zod schemas then admit only the expected
 *   shapes, and this also covers fields a schema passes through;
 * - control characters (NUL, ESC, ...) in any string or key: PostgreSQL, under FerretDB, refuses NUL in any string
 *   (SQLSTATE 22P05), so without this a NUL would come back as a 500, which the gateway's breakers count as the
 *   service failing.
 */
export function findUnsafeInput(value: unknown, path: string[] = [], depth = 0): UnsafeInput | undefined {
  const at = (...more: string[]) => [...path, ...more].join('.') || '(root)';
  if (depth > MAX_DEPTH) return { code: 'REQUEST.FORBIDDEN_KEY', path: at() };
  if (typeof value === 'string') return hasControlCharacter(value) ? { code: 'REQUEST.CONTROL_CHARACTER', path: at() } : undefined;
  const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : value !== null && typeof value === 'object' ? Object.entries(value) : [];
  for (const [key, item] of entries) {
    if (!Array.isArray(value)) {
      if (key.startsWith('$') || key.includes('.') || key === '__proto__') return { code: 'REQUEST.FORBIDDEN_KEY', path: at(key) };
      if (hasControlCharacter(key)) return { code: 'REQUEST.CONTROL_CHARACTER', path: at([...key].map((c) => (hasControlCharacter(c) ? '?' : c)).join('')) };
    }
    const found = findUnsafeInput(item, [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Throws a 400 naming the first operator key, over-deep nesting or control character anywhere in `value`. */
export function assertSafeInput(value: unknown, what: string): void {
  const unsafe = findUnsafeInput(value);
  if (!unsafe) return;
  const message = unsafe.code === 'REQUEST.FORBIDDEN_KEY' ? `${what} contains a forbidden key: ${unsafe.path}` : `${what} contains a control character at ${unsafe.path}`;
  throw new AppError('invalid', unsafe.code, message);
}

/** Parses untrusted input into a typed command, or throws a 400 naming every problem. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what = 'request'): z.infer<S> {
  assertSafeInput(value, what);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new AppError('invalid', 'REQUEST.VALIDATION_FAILED', `${what} is invalid`, {
    details: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  });
}
