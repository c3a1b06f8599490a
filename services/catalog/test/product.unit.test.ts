import { describe, expect, it } from 'vitest';
import { missingProducts } from '../src/domain/product';

const mug = { id: 'mug', name: 'Mug', description: 'A mug.', category: 'kitchen', priceCents: 1_250, initialStock: 10 };
const kettle = { id: 'kettle', name: 'Kettle', description: 'A kettle.', category: 'kitchen', priceCents: 4_999, initialStock: 5 };

describe('missingProducts', () => {
  it('when the catalog is empty, then every seed product is added, as a catalog entry without its stock', () => {
    expect(missingProducts([mug, kettle], new Set())).toEqual([
      { id: 'mug', name: 'Mug', description: 'A mug.', category: 'kitchen', priceCents: 1_250 },
      { id: 'kettle', name: 'Kettle', description: 'A kettle.', category: 'kitchen', priceCents: 4_999 },
    ]);
  });

  it('when some products are held already, then only the others are added and the held ones are left alone', () => {
    expect(missingProducts([mug, kettle], new Set(['mug'])).map((p) => p.id)).toEqual(['kettle']);
  });

  it('when every product is held, then nothing is added', () => {
    expect(missingProducts([mug, kettle], new Set(['mug', 'kettle', 'other']))).toEqual([]);
  });
});
