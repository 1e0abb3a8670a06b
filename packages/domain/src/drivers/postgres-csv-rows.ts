// The database-encoded CSV path of the PostgreSQL driver (unlimited CSV export): a single SELECT is
// wrapped as `COPY (SELECT <cells>, <raw> FROM (<query>) q) TO STDOUT (FORMAT csv, …)`, whose
// cells are the texts `CsvRowEncoder` (@sightline/render/csv) prints for the cursor path's values,
// so that COPY's own CSV quoting (separator, quote, CR, LF; quotes doubled; FORCE_QUOTE for
// `always`) gives the encoder's cells. What differs is fixed here: empty strings travel as NULL
// (COPY would quote them), and each line ends with the always-empty <raw> column and LF, which the
// decoder turns into CRLF. Values SQL cannot cheaply print as JS does (floats outside the
// plain-decimal range, numerics a double cannot hold, timestamps outside years 1–9999) make their
// row carry the columns' raw texts in <raw>: the driver parses them with the cursor path's own
// parsers and the caller encodes that row in JS as before.
import type pg from 'pg';
import type { CsvLineFormat } from './driver.types.js';
import { postgresClientTypes } from './postgres-types.js';

/** The wrapped statement. */
export interface CsvCopyPlan {
  sql: string;
  /** The column separator (one byte). */
  separator: number;
  /** Type OIDs of the columns (to parse raw rows). */
  typeOids: number[];
}

interface ColumnCsv {
  /** Text of a non-null value, before quoting and decimal separator. */
  text: string;
  /** How the text is made into a cell: a number, a value that is never empty (but see `empty`), or a text. */
  kind: 'number' | 'plain' | 'text';
  /** A number whose text may hold a decimal point (float, numeric). */
  fractional?: boolean;
  /** For a `plain` value that can be empty: the SQL condition saying it is. */
  empty?: string;
  /** When set: the SQL condition (for a non-null value) under which `text` is exact; else the raw row. */
  exactWhen?: string;
  /** The database's output text of the value (what the cursor path parses). */
  raw: string;
}

/** 10^(15 - scale) for scale 0…15: below it, integer digits plus scale are at most 15 (comparisons, no arithmetic). */
const POWERS = `('{${Array.from({ length: 16 }, (_, i) => `1e${15 - i}`).join(',')}}'::numeric[])`;
const NEGATIVE_POWERS = `('{${Array.from({ length: 16 }, (_, i) => `-1e${15 - i}`).join(',')}}'::numeric[])`;

const FORMAT_TEXT = (x: string) => `CASE WHEN ${x} IS NOT NULL THEN format('%s', ${x}) END`;

/** How column `x` of type `typeOid` is printed, or undefined for a type not handled. */
function columnCsv(x: string, typeOid: number, serverMajor: number): ColumnCsv | undefined {
  const raw = `${x}::text`;
  switch (typeOid) {
    // COPY prints a value with its type's output function, as the cursor path receives it.
    case 21: // int2
    case 23: // int4
    case 26: // oid
    case 20: // int8 (a number when safe, else its text: the same digits)
      return { text: x, kind: 'number', raw };
    case 16: // bool
      return { text: `CASE WHEN ${x} THEN 'true' WHEN NOT ${x} THEN 'false' END`, kind: 'plain', raw };
    // Never empty (DateStyle ISO, any IntervalStyle).
    case 2950: // uuid
    case 1186: // interval
    case 1083: // time
    case 1266: // timetz
    case 1082: // date
      return { text: x, kind: 'plain', raw };
    case 25: // text
    case 1043: // varchar
    case 19: // name
      return { text: x, kind: 'text', raw };
    // bpchar keeps its padding (::text would strip it; `= ''` would match blanks): empty by length
    case 1042:
      return { text: x, kind: 'plain', empty: `octet_length(${x}) = 0`, raw: FORMAT_TEXT(x) };
    // Never empty.
    case 829: // macaddr
    case 790: // money
    case 114: // json
    case 3802: // jsonb
      return { text: x, kind: 'plain', raw };
    case 869: // inet (::text would add the netmask)
    case 650: // cidr
      return { text: x, kind: 'plain', raw: FORMAT_TEXT(x) };
    case 17: // bytea: base64 (encode() breaks lines every 76 characters)
      return { text: `translate(encode(${x}, 'base64'), chr(10), '')`, kind: 'text', raw };
    // JSON array text (pgArrayToJsonText), for element types whose JSON form is the same.
    case 1005: // int2[]
    case 1007: // int4[]
    case 1000: // bool[]
    case 1009: // text[]
    case 1015: // varchar[]
    case 2951: // uuid[]
      return { text: `array_to_json(${x})`, kind: 'plain', raw };
    // Shortest digits without exponent where PostgreSQL and JS print a double alike; -0 prints 0.
    case 700: // float4 (exponent from 1e6 up)
      return {
        text: `CASE WHEN ${x} = 0 THEN '0' ELSE ${x}::text END`,
        kind: 'number',
        fractional: true,
        exactWhen: `(${x} = 0 OR (abs(${x}) >= 1e-4 AND abs(${x}) < 1e6))`,
        raw,
      };
    case 701: // float8 (exponent from 1e15 up)
      return {
        text: `CASE WHEN ${x} = 0 THEN '0' ELSE ${x}::text END`,
        kind: 'number',
        fractional: true,
        exactWhen: `(${x} = 0 OR (abs(${x}) >= 1e-4 AND abs(${x}) < 1e15))`,
        raw,
      };
    // At most 15 significant digits in 1e-6 ≤ |x| < 1e15: a double holds it and JS prints its
    // digits without trailing zeros (trim_scale, PostgreSQL 13+). Integer digits plus the display
    // scale bound the digits cheaply; a larger scale is measured.
    case 1700:
      if (serverMajor < 13) return undefined;
      return {
        text: `CASE WHEN scale(${x}) = 0 THEN ${x}::text WHEN ${x} = 0 THEN '0' ELSE trim_scale(${x})::text END`,
        kind: 'number',
        fractional: true,
        exactWhen: `(${x} = 0 OR ((${x} >= 0.000001 OR ${x} <= -0.000001) AND CASE WHEN scale(${x}) <= 15 THEN ${x} < ${POWERS}[scale(${x}) + 1] AND ${x} > ${NEGATIVE_POWERS}[scale(${x}) + 1] ELSE ${x} < 1e15 AND ${x} > -1e15 AND length(trim_scale(abs(${x}))::text) <= 16 END))`,
        raw,
      };
    // ISO 8601 without zone (naiveTimestampToIso) for years 1–9999 (DateStyle ISO: one space, no BC).
    case 1114:
      return { text: `replace(${x}::text, ' ', 'T')`, kind: 'plain', exactWhen: `(${x} >= '0001-01-01' AND ${x} < '10000-01-01')`, raw };
    // UTC ISO 8601 with Z (timestamptzToIso) for years 2–9998.
    case 1184:
      return {
        text: `replace((${x} AT TIME ZONE 'UTC')::text, ' ', 'T') || 'Z'`,
        kind: 'plain',
        exactWhen: `(${x} >= '0002-01-01 00:00:00+00' AND ${x} < '9999-01-01 00:00:00+00')`,
        raw,
      };
    default:
      return undefined;
  }
}

/** A SQL string literal (E'' form: the same under any standard_conforming_strings). */
function literal(text: string): string {
  return `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\t/g, '\\t').replace(/\r/g, '\\r').replace(/\n/g, '\\n')}'`;
}

/** The cell of a value as COPY's CSV quoting must receive it (NULL for the empty cell). */
function cellSql(column: ColumnCsv, format: CsvLineFormat): string {
  const t = column.text;
  if (column.kind === 'number') return column.fractional && format.decimalSeparator !== '.' ? `replace(${t}, '.', ${literal(format.decimalSeparator)})` : t;
  // an empty string is an empty cell, unquoted (COPY would quote it) unless every value is quoted
  if (format.quoteStyle === 'necessary') {
    if (column.kind === 'text') return `NULLIF(${t}, '')`;
    if (column.empty) return `CASE WHEN NOT ${column.empty} THEN ${t} END`;
  }
  return t;
}

/**
 * The COPY statement that makes the database write the CSV lines of `select` (a `wrappableSelect`)
 * in `format`, or undefined when a column has a type this path does not reproduce exactly (or there
 * are no columns). The header line is not part of it.
 */
export function csvCopyPlan(
  select: string,
  fields: ReadonlyArray<Pick<pg.FieldDef, 'dataTypeID'>>,
  serverMajor: number,
  format: CsvLineFormat,
): CsvCopyPlan | undefined {
  if (fields.length === 0 || serverMajor < 12) return undefined;
  const cells: string[] = [];
  const exact: string[] = [];
  const raws: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const x = `q.c${i + 1}`;
    const column = columnCsv(x, fields[i]!.dataTypeID, serverMajor);
    if (!column) return undefined;
    cells.push(cellSql(column, format));
    if (column.exactWhen) exact.push(`(${x} IS NULL OR ${column.exactWhen})`);
    raws.push(column.raw);
  }
  // the last column is empty, or the raw texts of a row the cells do not print exactly
  const raw = exact.length === 0 ? 'NULL::text' : `CASE WHEN NOT (${exact.join(' AND ')}) THEN to_json(ARRAY[${raws.join(', ')}]::text[])::text END`;
  const aliases = fields.map((_, i) => `c${i + 1}`).join(', ');
  const options = [`FORMAT csv`, `DELIMITER ${literal(format.columnSeparator)}`, ...(format.quoteStyle === 'always' ? ['FORCE_QUOTE *'] : [])];
  // the newline ends a trailing line comment of the query
  const sql = `COPY (SELECT ${cells.join(', ')}, ${raw} FROM (${select}\n) AS q(${aliases})) TO STDOUT (${options.join(', ')})`;
  return { sql, separator: format.columnSeparator.charCodeAt(0), typeOids: fields.map((f) => f.dataTypeID) };
}

const LF = 10;
const CR = 13;
const QUOTE = 34;

/**
 * Reads the CSV output of a `csvCopyPlan`: consecutive lines become one Buffer (the empty last
 * column dropped, CRLF line ends), a raw row becomes its values (parsed as the cursor path parses
 * them). Line ends are the LFs outside quoted cells.
 */
export class CsvCopyDecoder {
  private rest: Buffer | null = null;
  private readonly parsers: Array<(text: string) => unknown>;

  constructor(
    typeOids: readonly number[],
    private readonly separator: number,
  ) {
    this.parsers = typeOids.map((oid) => postgresClientTypes.getTypeParser(oid));
  }

  /** Decodes `chunk` (with what was left of the previous one); `rows` counts the rows it held. */
  push(chunk: Buffer): { pieces: Array<Buffer | unknown[]>; rows: number } {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    const pieces: Array<Buffer | unknown[]> = [];
    // a line loses its separator and gains a CR: the lines never outgrow the input
    let out = Buffer.allocUnsafe(buf.length);
    let outStart = 0;
    let w = 0;
    let rows = 0;
    let start = 0;
    let pos = 0;
    let quoted = false;
    let quote = buf.indexOf(QUOTE);
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      if (lf < 0) break;
      while (quote !== -1 && quote < lf) {
        quoted = !quoted;
        quote = buf.indexOf(QUOTE, quote + 1);
      }
      pos = lf + 1;
      if (quoted) continue;
      if (buf[lf - 1] === this.separator) {
        buf.copy(out, w, start, lf - 1);
        w += lf - 1 - start;
        out[w++] = CR;
        out[w++] = LF;
      } else {
        if (w > outStart) pieces.push(out.subarray(outStart, w));
        outStart = w;
        pieces.push(this.rawRow(buf.toString('utf8', start, lf)));
      }
      rows++;
      start = pos;
    }
    if (w > outStart) pieces.push(out.subarray(outStart, w));
    if (start < buf.length) this.rest = buf.subarray(start);
    return { pieces, rows };
  }

  /** The values of a row whose last cell holds the raw texts (a quoted JSON array). */
  private rawRow(line: string): unknown[] {
    const open = line.lastIndexOf(`${String.fromCharCode(this.separator)}"[`);
    const json = line.slice(open + 2, -1).replaceAll('""', '"');
    const texts = JSON.parse(json) as Array<string | null>;
    return texts.map((text, i) => (text === null ? null : this.parsers[i]!(text)));
  }

  /** True when a partial row is left (the stream ended early). */
  get hasRest(): boolean {
    return this.rest !== null && this.rest.length > 0;
  }
}
