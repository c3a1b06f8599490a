import { describe, expect, it } from 'vitest';
import { escapeRegex, pageWindow, productFilter } from '../src/domain/product-query';

describe('productFilter', () => {
  it('when nothing narrows the listing, then every product matches', () => {
    expect(productFilter({})).toEqual({});
    expect(productFilter({ search: '', category: '' })).toEqual({});
  });

  it('when a category is given, then only that category matches', () => {
    expect(productFilter({ category: 'books' })).toEqual({ category: 'books' });
  });

  it('when a search is given, then names containing it match, its regex characters taken literally', () => {
    expect(productFilter({ search: 'espresso' })).toEqual({ namePattern: 'espresso' });
    expect(productFilter({ search: 'Filters (100)' })).toEqual({ namePattern: 'Filters \\(100\\)' });
  });

  it('when ids are given, then exactly those ids match', () => {
    expect(productFilter({ ids: ['mug', 'kettle'] })).toEqual({ ids: ['mug', 'kettle'] });
  });

  it('when search, category and ids are given together, then all of them must hold', () => {
    expect(productFilter({ search: 'mug', category: 'kitchen', ids: ['mug'] })).toEqual({ namePattern: 'mug', category: 'kitchen', ids: ['mug'] });
  });
});

describe('escapeRegex', () => {
  it('when the text holds regex characters, then the pattern matches the text itself and nothing else', () => {
    const text = '.*+?^${}()|[]\\';
    const pattern = new RegExp(escapeRegex(text), 'i');
    expect(pattern.test(`a ${text} b`)).toBe(true);
    expect(pattern.test('anything else')).toBe(false);
    expect(new RegExp(escapeRegex('.*'), 'i').test('Paper Filters')).toBe(false);
  });
});

describe('pageWindow', () => {
  it('when the first page is asked for, then nothing is skipped', () => {
    expect(pageWindow({ page: 1, limit: 20 })).toEqual({ skip: 0, limit: 20 });
  });

  it('when a later page is asked for, then the pages before it are skipped', () => {
    expect(pageWindow({ page: 3, limit: 7 })).toEqual({ skip: 14, limit: 7 });
  });
});
