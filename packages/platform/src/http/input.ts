import type { z } from 'zod';
import { AppError } from '../errors';

const MAX_DEPTH = 8;

/**
 * Rejects keys that MongoDB would read as operators or paths (`$gt`, `a.b`) anywhere in a request body or
 * query, so that no user input can become a query operator (NoSQL injection). Zod schemas then admit only
 * the expected shapes; this guard also covers fields that a schema passes through.
 */
export function findForbiddenKey(value: unknown, path: string[] = [], depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return path.join('.') || '(root)';
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findForbiddenKey(item, [...path, String(index)], depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.startsWith('$') || key.includes('.') || key === '__proto__') return [...path, key].join('.');
      const found = findForbiddenKey(item, [...path, key], depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** Whether `text` holds a C0 control character or DEL; tab, line feed and carriage return are text. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return true;
  }
  return false;
}

/**
 * The path of the first string (a value or a key) holding a control character such as NUL, or undefined.
 * PostgreSQL, under FerretDB, refuses NUL in any string (SQLSTATE 22P05): without this a NUL would reach the
 * database and come back as a 500, which the gateway's breakers count as the service failing.
 */
export function findControlCharacter(value: unknown, path: string[] = [], depth = 0): string | undefined {
  if (typeof value === 'string') return hasControlCharacter(value) ? path.join('.') || '(root)' : undefined;
  if (depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findControlCharacter(item, [...path, String(index)], depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (hasControlCharacter(key)) return [...path, [...key].map((c) => (hasControlCharacter(c) ? '?' : c)).join('')].join('.');
      const found = findControlCharacter(item, [...path, key], depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** Throws the 400s for operator keys and control characters anywhere in `value`. */
export function assertSafeInput(value: unknown, what: string): void {
  const forbidden = findForbiddenKey(value);
  if (forbidden !== undefined) {
    throw new AppError('invalid', 'REQUEST.FORBIDDEN_KEY', `${what} contains a forbidden key: ${forbidden}`);
  }
  const control = findControlCharacter(value);
  if (control !== undefined) {
    throw new AppError('invalid', 'REQUEST.CONTROL_CHARACTER', `${what} contains a control character at ${control}`);
  }
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
