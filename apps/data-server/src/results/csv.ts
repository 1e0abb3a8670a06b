import type { CsvOptions, ResultField } from '@sightline/domain';

/** Defaults of Get Report Data when neither the request nor the organization chose (contract §3.14). */
export const DEFAULT_CSV_OPTIONS: CsvOptions = { columnSeparator: ',', decimalSeparator: '.', quoteStyle: 'necessary' };

const NUMERIC_TYPES = new Set(['Integer', 'BigInt', 'Float']);

/**
 * Encodes rows as RFC 4180 CSV (CRLF line ends) with the contract's options: column separator,
 * decimal separator (applied to the values of numeric fields only) and quote style (`necessary`
 * quotes a value holding the separator, a quote, CR or LF; `always` quotes every value but NULL,
 * so NULL and the empty string stay distinguishable). Objects and arrays are written as JSON.
 */
export class CsvEncoder {
  private readonly numeric: boolean[];
  private readonly needsQuote: RegExp;

  constructor(
    private readonly fields: readonly ResultField[],
    private readonly options: CsvOptions,
  ) {
    this.numeric = fields.map((f) => NUMERIC_TYPES.has(f.data_type));
    this.needsQuote = options.columnSeparator === '\t' ? /[\t"\r\n]/ : options.columnSeparator === ';' ? /[;"\r\n]/ : /[,"\r\n]/;
  }

  /** The header line: the field names. */
  header(): string {
    return this.fields.map((f) => this.quote(f.name)).join(this.options.columnSeparator) + '\r\n';
  }

  /** The lines of `rows` (positional arrays as stored). */
  rows(rows: readonly unknown[][]): string {
    const sep = this.options.columnSeparator;
    let out = '';
    for (const row of rows) {
      let line = '';
      for (let i = 0; i < this.fields.length; i++) {
        if (i > 0) line += sep;
        line += this.cell(row[i], this.numeric[i]!);
      }
      out += line + '\r\n';
    }
    return out;
  }

  private cell(value: unknown, numeric: boolean): string {
    if (value === null || value === undefined) return '';
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
    else text = JSON.stringify(value);
    if (numeric && this.options.decimalSeparator !== '.' && (typeof value === 'number' || typeof value === 'string')) {
      text = text.replace('.', this.options.decimalSeparator);
    }
    return this.quote(text);
  }

  private quote(text: string): string {
    if (this.options.quoteStyle === 'always' || this.needsQuote.test(text)) return `"${text.replaceAll('"', '""')}"`;
    return text;
  }
}
