import { FormatError } from '@cfx/core/api';
import { parseFixed, type DecimalMode } from '@cfx/core/text';

// shared with the csv format: one exact implementation of decimal text <-> integer units
export { parseFixed, formatFixed, type DecimalMode } from '@cfx/core/text';

export function formatQty(v: number, point: string): string {
  const a = Math.abs(v), frac = a % 1000, whole = (a - frac) / 1000;
  const sign = v < 0 ? '-' : '';
  if (frac === 0) return `${sign}${whole}`;
  return `${sign}${whole}${point}${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

/** where a number field sits, for the error */
export interface FieldAt {
  file: string | undefined;
  line: number;
  /** 1-based field number in the ATOL line */
  column: number;
  /** the field's name in messages and FormatError.location.field */
  field: string;
}

/** a number field or a FormatError naming file, line and field */
export function fixedAt(s: string, scale: number, decimal: DecimalMode, at: FieldAt): number {
  const v = parseFixed(s, scale, decimal);
  if (typeof v === 'string') throw new FormatError(`field ${at.column} (${at.field}): "${s}" ${v}`, { file: at.file, line: at.line, field: at.field, column: at.column });
  return v;
}
