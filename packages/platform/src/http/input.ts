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

/** Parses untrusted input into a typed command, or throws a 400 naming every problem. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what = 'request'): z.infer<S> {
  const forbidden = findForbiddenKey(value);
  if (forbidden !== undefined) {
    throw new AppError('invalid', 'REQUEST.FORBIDDEN_KEY', `${what} contains a forbidden key: ${forbidden}`);
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new AppError('invalid', 'REQUEST.VALIDATION_FAILED', `${what} is invalid`, {
    details: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  });
}
