import { z } from 'zod';

export type JsonSchema = { [key: string]: unknown };

/** Formats whose meaning is standard: zod's regex for them is an implementation detail, not contract. */
const SELF_DESCRIBING_FORMATS = new Set(['date-time', 'email', 'uuid']);

function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  const format = (node as JsonSchema).format;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'pattern' && typeof format === 'string' && SELF_DESCRIBING_FORMATS.has(format)) continue;
    // z.number().int() bounds every integer by Number.MAX_SAFE_INTEGER; that limit says nothing about the contract.
    if ((key === 'maximum' && value === Number.MAX_SAFE_INTEGER) || (key === 'minimum' && value === Number.MIN_SAFE_INTEGER)) continue;
    out[key] = tidy(value);
  }
  return out;
}

/**
 * A zod schema as JSON Schema for a document. `input` describes what a reader accepts (defaults are
 * optional, unknown keys allowed unless the object is strict), which is the contract a client relies on.
 * AsyncAPI 3.0's default schema format is a superset of draft-07; OpenAPI 3.1 uses draft 2020-12.
 */
export function toJsonSchema(schema: z.ZodType, target: 'draft-07' | 'draft-2020-12'): JsonSchema {
  return tidy(z.toJSONSchema(schema, { target, io: 'input', unrepresentable: 'throw' })) as JsonSchema;
}

/** A copy of `value` with object keys in sorted order, for maps whose order carries no meaning. */
export function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
