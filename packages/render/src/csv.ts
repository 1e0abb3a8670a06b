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
    this.decimalDot = format.decimalSeparator === '.';
    this.plainNumbers = format.quoteStyle === 'necessary' && format.decimalSeparator !== format.columnSeparator;
  }

  /** The decimal separator is `.` (numbers print as they are). */
  private readonly decimalDot: boolean;
  /** Numbers never need quotes under this format. */
  private readonly plainNumbers: boolean;

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
    const n = this.fields.length;
    let line = '';
    for (let i = 0; i < n; i++) {
      if (i > 0) line += sep;
      const value = row[i];
      // fast paths for the common cells: a number (no quoting needed unless its decimal separator
      // is the column separator) and a plain string
      if (typeof value === 'number' && this.plainNumbers && this.numeric[i])
        line += this.decimalDot ? String(value) : String(value).replace('.', this.format.decimalSeparator);
      else if (typeof value === 'string' && !this.numeric[i] && !this.alwaysQuote)
        line += this.needsQuote.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
      else line += this.cell(value, this.numeric[i]!);
    }
    return line + '\r\n';
  }

  private get alwaysQuote(): boolean {
    return this.format.quoteStyle === 'always';
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
