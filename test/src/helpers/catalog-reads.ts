// Catalog lookups that tell an old catalog from a new one and catch anything in between: the old
// and the new full file give every product one price (old: all `old.price`, new: all `new.price`)
// and a different product count, so a half state shows as a page of mixed prices, a missing
// product, a count of neither, or a lookup seeing the old catalog after it saw the new one.
import type { Product } from '@cfx/core';

/** what the store's catalog repository offers a till (app.store.catalog) */
interface Catalog {
  count(): number;
  list(o: { limit: number; offset: number }): Product[];
  get(code: string): Product | undefined;
  findByBarcode(barcode: string): Product | undefined;
}

export interface CatalogShape {
  products: number;
  price: number;
}

export interface ReadTally {
  /** one lookup of each kind (count, list page, get, barcode): 'old', 'new' or 'bad' */
  read(): 'old' | 'new' | 'bad';
  summary(): { reads: number; old: number; new: number; bad: string[]; backwards: number };
}

/** codes are 1..n, barcode of code i is 48200 + i zero-padded to 13 digits */
export const barcodeOf = (code: number): string => `48200${String(code).padStart(8, '0')}`;

export function classifyReads(catalog: Catalog, old: CatalogShape, next: CatalogShape): ReadTally {
  let reads = 0, olds = 0, news = 0, backwards = 0, k = 0;
  let seenNew = false;
  const bad: string[] = [];
  const priceState = (price: number | undefined): 'old' | 'new' | 'bad' => (price === old.price ? 'old' : price === next.price ? 'new' : 'bad');
  return {
    read() {
      reads++;
      k++;
      const states: ('old' | 'new' | 'bad')[] = [];
      const n = catalog.count();
      states.push(n === old.products ? 'old' : n === next.products ? 'new' : 'bad');
      const offset = (k * 37) % Math.max(1, old.products - 50);
      const page = catalog.list({ limit: 50, offset });
      const pageStates = new Set(page.map((p) => priceState(p.price)));
      states.push(page.length === 50 && pageStates.size === 1 ? [...pageStates][0]! : 'bad');
      const code = 1 + ((k * 7919) % old.products);
      states.push(priceState(catalog.get(String(code))?.price));
      states.push(priceState(catalog.findByBarcode(barcodeOf(code))?.price));
      // each lookup is of one catalog; two lookups in a row may straddle the swap, never go back
      let state: 'old' | 'new' | 'bad' = 'bad';
      for (const s of states) {
        if (s === 'bad') {
          if (bad.length < 10) bad.push(`read ${reads}: count ${n}, page prices ${[...pageStates].join('/')} (${page.length}), code ${code}`);
          state = 'bad';
          break;
        }
        if (s === 'old' && seenNew) backwards++;
        if (s === 'new') seenNew = true;
        state = s;
      }
      if (state === 'old') olds++;
      else if (state === 'new') news++;
      return state;
    },
    summary: () => ({ reads, old: olds, new: news, bad, backwards }),
  };
}
