// The database-encoded CSV path of the PostgreSQL driver (unlimited CSV export): a single SELECT is
// wrapped as `COPY (SELECT <line> FROM (<query>) q) TO STDOUT (FORMAT binary)`, where <line> is
// the exact CSV line (cells, separators, quoting, CRLF) that `CsvRowEncoder` (@sightline/render/csv)
// makes from the cursor path's values. Binary COPY hands each line over as raw bytes (text COPY
// would escape tabs, CR and LF). Values SQL cannot cheaply print as JS does (floats outside the
// plain-decimal range, numerics a double cannot hold, timestamps outside years 1–9999) make their
// row travel as the columns' raw texts instead: the driver parses them with the cursor path's own
// parsers and the caller encodes that row in JS as before.
import type pg from 'pg';
import type { CsvLineFormat } from './driver.types.js';
import { postgresClientTypes } from './postgres-types.js';

/** The wrapped statement. */
export interface CsvCopyPlan {
  sql: string;
  /** The COPY has a second column: the raw texts of rows the database did not encode (JSON array). */
  hasRawColumn: boolean;
  /** Type OIDs of the columns (to parse raw rows). */
  typeOids: number[];
}

interface ColumnCsv {
  /** Text of a non-null value, before quoting and decimal separator. */
  text: string;
  /** How the text is made into a cell: a number, a value that never needs quotes, or any text. */
  kind: 'number' | 'plain' | 'text';
  /** A number whose text may hold a decimal point (float, numeric). */
  fractional?: boolean;
  /** When set: the SQL condition (for a non-null value) under which `text` is exact; else the raw row. */
  exactWhen?: string;
  /** The database's output text of the value (what the cursor path parses). */
  raw: string;
}

const FORMAT_TEXT = (x: string) => `CASE WHEN ${x} IS NOT NULL THEN format('%s', ${x}) END`;

/** How column `x` of type `typeOid` is printed, or undefined for a type not handled. */
function columnCsv(x: string, typeOid: number, serverMajor: number): ColumnCsv | undefined {
  const raw = `${x}::text`;
  switch (typeOid) {
    case 21: // int2
    case 23: // int4
    case 26: // oid
    case 20: // int8 (a number when safe, else its text: the same digits)
      return { text: `${x}::text`, kind: 'number', raw };
    case 16: // bool
      return { text: `CASE WHEN ${x} THEN 'true' WHEN NOT ${x} THEN 'false' END`, kind: 'plain', raw };
    case 2950: // uuid: hex digits and dashes
      return { text: `${x}::text`, kind: 'plain', raw };
    // The type's output text (the cursor path keeps it as it is).
    case 25: // text
    case 1043: // varchar
    case 19: // name
    case 1186: // interval
    case 1083: // time
    case 1266: // timetz
    case 829: // macaddr
    case 790: // money
    case 114: // json
    case 3802: // jsonb
    case 1082: // date
      return { text: `${x}::text`, kind: 'text', raw };
    // ::text would strip bpchar's padding and add inet's netmask: the output function instead.
    case 1042: // bpchar
    case 869: // inet
    case 650: // cidr
      return { text: FORMAT_TEXT(x), kind: 'text', raw: FORMAT_TEXT(x) };
    case 17: // bytea: base64 (encode() breaks lines every 76 characters)
      return { text: `translate(encode(${x}, 'base64'), chr(10), '')`, kind: 'text', raw };
    // JSON array text (pgArrayToJsonText), for element types whose JSON form is the same.
    case 1005: // int2[]
    case 1007: // int4[]
    case 1000: // bool[]
    case 1009: // text[]
    case 1015: // varchar[]
    case 2951: // uuid[]
      return { text: `array_to_json(${x})::text`, kind: 'text', raw };
    // Shortest digits without exponent where PostgreSQL and JS print a double alike; -0 prints 0.
    case 700: // float4 (exponent from 1e6 up)
      return { text: `CASE WHEN ${x} = 0 THEN '0' ELSE ${x}::text END`, kind: 'number', fractional: true, exactWhen: `(${x} = 0 OR (abs(${x}) >= 1e-4 AND abs(${x}) < 1e6))`, raw };
    case 701: // float8 (exponent from 1e15 up)
      return { text: `CASE WHEN ${x} = 0 THEN '0' ELSE ${x}::text END`, kind: 'number', fractional: true, exactWhen: `(${x} = 0 OR (abs(${x}) >= 1e-4 AND abs(${x}) < 1e15))`, raw };
    // At most 15 digits in 1e-6 ≤ |x| < 1e15: a double holds it and JS prints its digits without
    // trailing zeros (trim_scale, PostgreSQL 13+).
    case 1700:
      if (serverMajor < 13) return undefined;
      return {
        text: `CASE WHEN ${x} = 0 THEN '0' ELSE trim_scale(${x})::text END`, kind: 'number', fractional: true,
        exactWhen: `(${x} = 0 OR (abs(${x}) >= 0.000001 AND abs(${x}) < 1e15 AND length(trim_scale(abs(${x}))::text) <= 16))`, raw,
      };
    // ISO 8601 without zone (naiveTimestampToIso) for years 1–9999 (DateStyle ISO).
    case 1114:
      return { text: `overlay(${x}::text placing 'T' from 11 for 1)`, kind: 'text', exactWhen: `(${x} >= '0001-01-01' AND ${x} < '10000-01-01')`, raw };
    // UTC ISO 8601 with Z (timestamptzToIso) for years 2–9998.
    case 1184:
      return {
        text: `overlay((${x} AT TIME ZONE 'UTC')::text placing 'T' from 11 for 1) || 'Z'`, kind: 'text',
        exactWhen: `(${x} >= '0002-01-01 00:00:00+00' AND ${x} < '9999-01-01 00:00:00+00')`, raw,
      };
    default:
      return undefined;
  }
}

/** A SQL string literal (E'' form: the same under any standard_conforming_strings). */
function literal(text: string): string {
  return `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\t/g, '\\t').replace(/\r/g, '\\r').replace(/\n/g, '\\n')}'`;
}

/** The cell SQL of a non-null text `t` (CsvRowEncoder.row/cell, per kind). */
function cellSql(column: ColumnCsv, format: CsvLineFormat): string {
  const t = column.text;
  const always = format.quoteStyle === 'always';
  if (column.kind === 'number') {
    const text = column.fractional && format.decimalSeparator !== '.' ? `replace(${t}, '.', ${literal(format.decimalSeparator)})` : t;
    if (always) return `'"' || ${text} || '"'`;
    // numbers hold no quote, CR or LF: only a decimal separator equal to the column separator quotes
    if (column.fractional && format.decimalSeparator === format.columnSeparator) return `CASE WHEN strpos(${t}, '.') > 0 THEN '"' || ${text} || '"' ELSE ${text} END`;
    return text;
  }
  if (column.kind === 'plain') return always ? `'"' || ${t} || '"'` : t;
  const quoted = `'"' || replace(${t}, '"', '""') || '"'`;
  if (always) return quoted;
  const needsQuote = literal(`[${format.columnSeparator}"\r\n]`);
  return `CASE WHEN ${t} ~ ${needsQuote} THEN ${quoted} ELSE ${t} END`;
}

/**
 * The COPY statement that makes the database write the CSV lines of `select` (a `wrappableSelect`)
 * in `format`, or undefined when a column has a type this path does not reproduce exactly (or there
 * are no columns). The header line is not part of it.
 */
export function csvCopyPlan(select: string, fields: ReadonlyArray<Pick<pg.FieldDef, 'dataTypeID'>>, serverMajor: number, format: CsvLineFormat): CsvCopyPlan | undefined {
  if (fields.length === 0 || serverMajor < 12) return undefined;
  const cells: string[] = [];
  const exact: string[] = [];
  const raws: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const x = `q.c${i + 1}`;
    const column = columnCsv(x, fields[i]!.dataTypeID, serverMajor);
    if (!column) return undefined;
    cells.push(`COALESCE(${cellSql(column, format)}, '')`);
    if (column.exactWhen) exact.push(`(${x} IS NULL OR ${column.exactWhen})`);
    raws.push(column.raw);
  }
  const line = `${cells.join(` || ${literal(format.columnSeparator)} || `)} || ${literal('\r\n')}`;
  const aliases = fields.map((_, i) => `c${i + 1}`).join(', ');
  const typeOids = fields.map((f) => f.dataTypeID);
  // the newline ends a trailing line comment of the query
  const from = `FROM (${select}\n) AS q(${aliases})`;
  if (exact.length === 0) return { sql: `COPY (SELECT ${line} ${from}) TO STDOUT (FORMAT binary)`, hasRawColumn: false, typeOids };
  const isExact = exact.join(' AND ');
  const sql = `COPY (SELECT CASE WHEN ${isExact} THEN ${line} END, CASE WHEN NOT (${isExact}) THEN to_json(ARRAY[${raws.join(', ')}]::text[])::text END ${from}) TO STDOUT (FORMAT binary)`;
  return { sql, hasRawColumn: true, typeOids };
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Output bytes gathered before they are handed on as one piece. */
const PIECE_BYTES = 256 * 1024;

/**
 * Reads the binary COPY output of a `csvCopyPlan`: consecutive encoded lines become one Buffer,
 * a raw row becomes its values (parsed as the cursor path parses them).
 */
export class CsvCopyDecoder {
  private rest: Buffer | null = null;
  private headerRead = false;
  /** The trailer was read. */
  ended = false;
  private readonly parsers: Array<(text: string) => unknown>;

  constructor(typeOids: readonly number[]) {
    this.parsers = typeOids.map((oid) => postgresClientTypes.getTypeParser(oid));
  }

  /** Decodes `chunk` (with what was left of the previous one); `rows` counts the rows it held. */
  push(chunk: Buffer): { pieces: Array<Buffer | unknown[]>; rows: number } {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    const pieces: Array<Buffer | unknown[]> = [];
    let pos = 0;
    if (!this.headerRead) {
      if (buf.length < 19) {
        this.rest = buf;
        return { pieces, rows: 0 };
      }
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new Error('Not a binary COPY stream');
      pos = 19 + buf.readInt32BE(15);
      this.headerRead = true;
    }
    const len = buf.length;
    let out = Buffer.allocUnsafe(Math.min(len, PIECE_BYTES));
    let w = 0;
    let rows = 0;
    const flush = () => {
      if (w > 0) pieces.push(out.subarray(0, w));
      out = Buffer.allocUnsafe(Math.min(len, PIECE_BYTES));
      w = 0;
    };
    while (pos + 2 <= len) {
      const count = buf.readInt16BE(pos);
      if (count === -1) {
        this.ended = true;
        pos += 2;
        break;
      }
      let p = pos + 2;
      if (p + 4 > len) break;
      const lineLength = buf.readInt32BE(p);
      p += 4;
      const lineStart = p;
      if (lineLength > 0) p += lineLength;
      let rawStart = -1;
      let rawLength = -1;
      if (count === 2) {
        if (p + 4 > len) break;
        rawLength = buf.readInt32BE(p);
        p += 4;
        rawStart = p;
        if (rawLength > 0) p += rawLength;
      }
      if (p > len) break;
      if (lineLength >= 0) {
        if (w + lineLength > out.length) {
          flush();
          if (lineLength > out.length) out = Buffer.allocUnsafe(lineLength);
        }
        buf.copy(out, w, lineStart, lineStart + lineLength);
        w += lineLength;
      } else {
        flush();
        const texts = JSON.parse(buf.toString('utf8', rawStart, rawStart + rawLength)) as Array<string | null>;
        pieces.push(texts.map((text, i) => (text === null ? null : this.parsers[i]!(text))));
      }
      rows++;
      pos = p;
    }
    if (w > 0) pieces.push(out.subarray(0, w));
    if (pos < len && !this.ended) this.rest = buf.subarray(pos);
    return { pieces, rows };
  }

  /** True when a partial row is left (the stream ended early). */
  get hasRest(): boolean {
    return this.rest !== null && this.rest.length > 0;
  }
}
