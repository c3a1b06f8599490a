import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, ConfigError, findUnsafeInput, loadConfig, parseInput, toErrorResponse } from '../src';

describe('request input guard', () => {
  it('when a body carries an operator or dotted key at any depth, then the guard names it', () => {
    const forbidden = (path: string) => ({ code: 'REQUEST.FORBIDDEN_KEY', path });
    expect(findUnsafeInput({ email: { $gt: '' } })).toEqual(forbidden('email.$gt'));
    expect(findUnsafeInput({ items: [{ productId: 'a' }, { 'a.b': 1 }] })).toEqual(forbidden('items.1.a.b'));
    expect(findUnsafeInput({ name: 'plain $text is fine' })).toBeUndefined();
    expect(findUnsafeInput({ a: { b: { c: { d: { e: { f: { g: { h: { i: 'too deep' } } } } } } } } })).toEqual(forbidden('a.b.c.d.e.f.g.h.i'));
    expect(findUnsafeInput({ a: { b: { c: { d: { e: { f: { g: { h: 'deep enough' } } } } } } } })).toBeUndefined();
  });

  it('when a string or key holds NUL or another control character at any depth, then the guard names where', () => {
    const control = (path: string) => ({ code: 'REQUEST.CONTROL_CHARACTER', path });
    expect(findUnsafeInput({ name: 'N\u0000L' })).toEqual(control('name'));
    expect(findUnsafeInput({ items: [{ productId: 'ok' }, { productId: 'esc\u001B' }] })).toEqual(control('items.1.productId'));
    expect(findUnsafeInput({ 'k\u0000': 1 })).toEqual(control('k?'));
    expect(findUnsafeInput('\u007F')).toEqual(control('(root)'));
    // Tab, line feed and carriage return are text, not control.
    expect(findUnsafeInput({ note: 'two\nlines\tand\r\n', name: 'Zoë 🛒' })).toBeUndefined();
    expect(() => parseInput(z.object({ name: z.string() }), { name: 'a\u0000' })).toThrow(expect.objectContaining({ code: 'REQUEST.CONTROL_CHARACTER' }));
  });

  it('when input does not match the schema, then a 400 lists every problem', () => {
    const schema = z.strictObject({ quantity: z.number().int().positive() });
    let caught: unknown;
    try {
      parseInput(schema, { quantity: -1 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    const response = toErrorResponse(caught);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('REQUEST.VALIDATION_FAILED');
    expect(response.body.error.details).toEqual([expect.objectContaining({ path: 'quantity' })]);
  });

  it('when an unexpected error reaches the edge, then the client sees a generic 500', () => {
    expect(toErrorResponse(new Error('db password is hunter2'))).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } });
  });
});

describe('config', () => {
  it('when a variable is invalid, then start-up fails naming it', () => {
    const schema = z.object({ PORT: z.coerce.number().int().max(65535), JWT_SECRET: z.string().min(32) });
    expect(() => loadConfig(schema, { PORT: 'x', JWT_SECRET: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { PORT: 'x', JWT_SECRET: 'short' })).toThrow(/PORT[\s\S]*JWT_SECRET/);
  });
});
