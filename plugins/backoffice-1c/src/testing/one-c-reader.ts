/**
 * TEST-ONLY model of 1C's import of an ATOL sales report, written from atol-1c.md §3 "How 1C reads
 * it" and nothing else (it shares no code with the plugin's decoder, so it checks the writer from
 * the outside). Not exported from the package.
 *
 *  - missing file -> error; line 1 `@` -> "already loaded"; anything but `#` -> "wrong format"
 *  - line 2 database id, line 3 report number, then one transaction per line; a blank line ends it
 *  - fields 1, 4, 6, 14 must be numbers, or the whole import fails
 *  - type 1 (free-price sale without a code) fails the whole import
 *  - type 11: fields 8 (code), 10 (price), 11 (qty), 16 (amount) must be numeric; the line is collected
 *  - type 12: removes the last collected line of that document + shift
 *  - 55 closes a document, 56 cancels it (drops all its lines)
 *  - the lines of a closed receipt are found BY DOCUMENT NUMBER ONLY
 *  - qty and amount are taken as written (1C expects them negative on returns)
 */
export class OneCImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OneCImportError';
  }
}

export interface OneCPosition {
  document: number;
  shift: number;
  /** field 13 */
  operation: number;
  code: string;
  /** minor units */
  price: number;
  /** thousandths, as written */
  qty: number;
  /** minor units, as written (field 16) */
  amount: number;
}

export interface OneCImport {
  databaseId: string;
  reportNumber: string;
  positions: OneCPosition[];
}

const INTEGER = /^-?\d+$/;
const NUMBER = /^-?\d+(?:[.,]\d*)?$/;

/** exact decimal -> integer units (10^-scale), by string, as an independent check of the writer */
function units(s: string, scale: number, what: string): number {
  if (!NUMBER.test(s)) throw new OneCImportError(`${what} "${s}" is not a number`);
  const neg = s.startsWith('-');
  const [w, frac = ''] = (neg ? s.slice(1) : s).split(/[.,]/);
  if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) throw new OneCImportError(`${what} "${s}" has too many decimals`);
  const v = Number(w) * 10 ** scale + Number((frac + '000').slice(0, scale) || '0');
  return neg ? -v : v;
}

/** reads the bytes as 1C does: ANSI (windows-1251) text */
export function read1CReport(bytes: Uint8Array | undefined, encoding: 'windows-1251' | 'utf-8' = 'windows-1251'): OneCImport {
  if (bytes === undefined) throw new OneCImportError('the report file does not exist');
  const lines = new TextDecoder(encoding).decode(bytes).split(/\r?\n/);
  if (lines[0] === '@') throw new OneCImportError('the report was already loaded');
  if (lines[0] !== '#') throw new OneCImportError('wrong format: line 1 is not "#"');
  const collected: OneCPosition[] = [];
  const closed = new Set<number>();
  const cancelled = new Set<number>();
  for (let i = 3; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    const f = line.split(';');
    const field = (k: number) => f[k - 1] ?? '';
    for (const k of [1, 4, 6, 14]) if (!INTEGER.test(field(k))) throw new OneCImportError(`line ${i + 1}: field ${k} "${field(k)}" is not a number`);
    const type = Number(field(4)), doc = Number(field(6)), shift = Number(field(14));
    if (type === 1) throw new OneCImportError(`line ${i + 1}: a free-price sale (type 1) cannot be imported`);
    if (type === 11) {
      if (!/^\d+$/.test(field(8))) throw new OneCImportError(`line ${i + 1}: item code "${field(8)}" is not a number`);
      collected.push({
        document: doc,
        shift,
        operation: Number(field(13)),
        code: field(8),
        price: units(field(10), 2, `line ${i + 1} price`),
        qty: units(field(11), 3, `line ${i + 1} qty`),
        amount: units(field(16), 2, `line ${i + 1} amount`),
      });
    } else if (type === 12) {
      for (let k = collected.length - 1; k >= 0; k--) {
        if (collected[k]!.document === doc && collected[k]!.shift === shift) {
          collected.splice(k, 1);
          break;
        }
      }
    } else if (type === 55) closed.add(doc);
    else if (type === 56) cancelled.add(doc);
  }
  return { databaseId: lines[1] ?? '', reportNumber: lines[2] ?? '', positions: collected.filter((p) => closed.has(p.document) && !cancelled.has(p.document)) };
}

/** per item code: total qty and amount over every imported position (sales and returns together) */
export function totalsByCode(positions: Iterable<{ code: string; qty: number; amount: number }>): Map<string, { qty: number; amount: number }> {
  const m = new Map<string, { qty: number; amount: number }>();
  for (const p of positions) {
    const t = m.get(p.code) ?? { qty: 0, amount: 0 };
    t.qty += p.qty;
    t.amount += p.amount;
    m.set(p.code, t);
  }
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
