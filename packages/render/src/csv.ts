// CSV with the contract's options (§3.14): column separator, decimal separator, quote style.
// Light on purpose (no rendering dependency): `@sightline/render/csv` is imported on its own by
// the unlimited CSV export, which streams rows from a datasource straight into a file.

import type { RenderField, RenderRow } from './types.js';

/** CSV options (organization settings, or the request's). */
export interface CsvFormat {
  columnSeparator: ',' | ';' | '\t';
  decimalSeparator: '.' | ',' | '/';
  quoteStyle: 'necessary' | 'always';
}

/** The contract's defaults (`,` `.` `necessary`). */
export const DEFAULT_CSV_FORMAT: CsvFormat = { columnSeparator: ',', decimalSeparator: '.', quoteStyle: 'necessary' };

const NUMERIC_TYPES = new Set(['Integer', 'BigInt', 'Float']);

/**
 * Encodes rows as RFC 4180 CSV (CRLF line ends): the decimal separator applies to numeric fields
 * only; `necessary` quotes values holding the separator, a quote, CR or LF, `always` quotes every
 * value but NULL (so NULL and the empty string stay apart). Objects and arrays are written as JSON.
 */
export class CsvRowEncoder {
  private readonly numeric: boolean[];
  private readonly needsQuote: RegExp;

  constructor(
    private readonly fields: readonly Pick<RenderField, 'name' | 'data_type'>[],
    private readonly format: CsvFormat = DEFAULT_CSV_FORMAT,
  ) {
    this.numeric = fields.map((f) => NUMERIC_TYPES.has(f.data_type));
    this.needsQuote = format.columnSeparator === '\t' ? /[\t"\r\n]/ : format.columnSeparator === ';' ? /[;"\r\n]/ : /[,"\r\n]/;
  }

  /** The header line (field names). */
  header(): string {
    return this.fields.map((f) => this.quote(f.name)).join(this.format.columnSeparator) + '\r\n';
  }

  /** One line per row. */
  rows(rows: readonly RenderRow[]): string {
    let out = '';
    for (const row of rows) out += this.row(row);
    return out;
  }

  /** One line. */
  row(row: RenderRow): string {
    const sep = this.format.columnSeparator;
    let line = '';
    for (let i = 0; i < this.fields.length; i++) {
      if (i > 0) line += sep;
      line += this.cell(row[i], this.numeric[i]!);
    }
    return line + '\r\n';
  }

  private cell(value: unknown, numeric: boolean): string {
    if (value === null || value === undefined) return '';
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
    else if (value instanceof Date) text = value.toISOString();
    else if (Buffer.isBuffer(value)) text = value.toString('base64');
    else text = JSON.stringify(value);
    if (numeric && this.format.decimalSeparator !== '.' && typeof value !== 'boolean') text = text.replace('.', this.format.decimalSeparator);
    return this.format.quoteStyle === 'always' || this.needsQuote.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  }

  private quote(text: string): string {
    return this.format.quoteStyle === 'always' || this.needsQuote.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  }
}
