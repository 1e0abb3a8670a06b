// The database-encoded row path of the PostgreSQL driver: a single SELECT is wrapped as
// `COPY (SELECT '[' || … || ']' FROM (<query>) q) TO STDOUT`, so the server writes each row as the
// exact JSON array text the result writer would have made from node-postgres' values. The
// expressions below reproduce, type by type, what `postgres-types.ts` parses and `JSON.stringify`
// prints; values whose JS form SQL cannot cheaply produce (floats outside the plain-decimal range,
// numerics a double cannot hold, timestamps outside years 2–9998) travel as the database's text
// and are converted in JS by the same functions as before (`JsonRowFixup`).
import type pg from 'pg';
import { skipNonCode } from '../query/sql-lexer.js';
import { decimalToJson, floatToJson, naiveTimestampToIso, timestamptzToIso } from './values.js';

/** How a column's value is corrected in JS when the database sent its raw text instead. */
export type JsonRowFixup = 'float' | 'numeric' | 'timestamp' | 'timestamptz';

/** The wrapped statement and what JS has to finish per column. */
export interface JsonCopyPlan {
  sql: string;
  /** Per column: the fixup to apply, or null when the database's JSON is final. */
  fixups: Array<JsonRowFixup | null>;
}

const WRAPPABLE_START = /^(?:select|with|values|table)\b/i;

/**
 * The statement without leading/trailing comments, whitespace and semicolons, when it is one
 * statement that reads rows (`SELECT`, `WITH`, `VALUES`, `TABLE`, or a parenthesised query);
 * undefined otherwise (several statements, `SHOW`, DML, …).
 */
export function wrappableSelect(sql: string): string | undefined {
  let start = 0;
  for (;;) {
    while (start < sql.length && /\s/.test(sql[start]!)) start++;
    const skipped = skipNonCode(sql, start, 'postgres');
    if (skipped === start || sql[start] === "'" || sql[start] === '"' || sql[start] === '$') break;
    start = skipped;
  }
  const body = sql.slice(start);
  if (!WRAPPABLE_START.test(body) && !body.startsWith('(')) return undefined;
  // code ends at the last code character before trailing semicolons and comments
  let end = 0;
  let sawSemicolon = false;
  for (let i = 0; i < body.length;) {
    const skipped = skipNonCode(body, i, 'postgres');
    if (skipped > i) {
      // a comment after a semicolon is trailing; a literal after one is a second statement
      if (sawSemicolon && !(body[i] === '-' || body[i] === '/')) return undefined;
      if (!sawSemicolon && !(body[i] === '-' || body[i] === '/')) end = skipped;
      i = skipped;
      continue;
    }
    const ch = body[i]!;
    if (ch === ';') sawSemicolon = true;
    else if (!/\s/.test(ch)) {
      if (sawSemicolon) return undefined;
      end = i + 1;
    }
    i++;
  }
  const text = body.slice(0, end);
  return text.length > 0 ? text : undefined;
}

const SAFE_INTEGER = '9007199254740991';

/** The SQL (a non-null text) giving the JSON of column `x`, or undefined for a type not handled. */
function columnJson(x: string, typeOid: number): { sql: string; fixup: JsonRowFixup | null } | undefined {
  const string = `COALESCE(to_json(${x}::text)::text, 'null')`;
  switch (typeOid) {
    case 21: // int2
    case 23: // int4
    case 26: // oid
      return { sql: `COALESCE(${x}::text, 'null')`, fixup: null };
    case 20: // int8: a number when safe, else its text (bigIntToJson)
      return {
        sql: `CASE WHEN ${x} IS NULL THEN 'null' WHEN ${x} BETWEEN -${SAFE_INTEGER} AND ${SAFE_INTEGER} THEN ${x}::text ELSE '"' || ${x}::text || '"' END`,
        fixup: null,
      };
    case 16: // bool
      return { sql: `CASE WHEN ${x} THEN 'true' WHEN NOT ${x} THEN 'false' ELSE 'null' END`, fixup: null };
    // The type's output text as a JSON string (to_json of these types uses the output function).
    case 25: // text
    case 1043: // varchar
    case 1042: // bpchar (to_json keeps the padding; ::text would strip it)
    case 19: // name
    case 2950: // uuid
    case 1186: // interval
    case 1083: // time
    case 1266: // timetz
    case 869: // inet (::text would add the netmask)
    case 650: // cidr
    case 829: // macaddr
    case 790: // money
      return { sql: `COALESCE(to_json(${x})::text, 'null')`, fixup: null };
    case 114: // json, jsonb: the database's text as a string (to_json would embed it)
    case 3802:
    case 1082: // date: its output text (to_json would use the XSD form)
      return { sql: string, fixup: null };
    case 17: // bytea: base64 (encode() breaks lines every 76 characters)
      return { sql: `COALESCE('"' || translate(encode(${x}, 'base64'), chr(10), '') || '"', 'null')`, fixup: null };
    // Arrays travel as their JSON array text (pgArrayToJsonText), for element types whose
    // JSON element form is the same in both paths.
    case 1005: // int2[]
    case 1007: // int4[]
    case 1000: // bool[]
    case 1009: // text[]
    case 1015: // varchar[]
    case 2951: // uuid[]
      return { sql: `COALESCE(to_json(array_to_json(${x})::text)::text, 'null')`, fixup: null };
    // Plain decimal form in the range where PostgreSQL and JS print a double alike (shortest digits,
    // no exponent); -0 prints as 0 in JSON. Elsewhere the text, converted in JS (floatToJson).
    case 700: // float4 (exponent from 1e6 up)
      return {
        sql: `CASE WHEN ${x} IS NULL THEN 'null' WHEN ${x} = 0 THEN '0' WHEN abs(${x}) >= 1e-4 AND abs(${x}) < 1e6 THEN ${x}::text ELSE to_json(${x}::text)::text END`,
        fixup: 'float',
      };
    case 701: // float8 (exponent from 1e15 up)
      return {
        sql: `CASE WHEN ${x} IS NULL THEN 'null' WHEN ${x} = 0 THEN '0' WHEN abs(${x}) >= 1e-4 AND abs(${x}) < 1e15 THEN ${x}::text ELSE to_json(${x}::text)::text END`,
        fixup: 'float',
      };
    // At most 15 digits in 1e-6 ≤ |x| < 1e15: a double holds it and JS prints its digits without
    // trailing zeros (trim_scale). Elsewhere the text, converted in JS (decimalToJson).
    case 1700:
      return {
        sql: `CASE WHEN ${x} IS NULL THEN 'null' WHEN ${x} = 0 THEN '0' WHEN abs(${x}) >= 0.000001 AND abs(${x}) < 1e15 AND length(trim_scale(abs(${x}))::text) <= 16 THEN trim_scale(${x})::text ELSE to_json(${x}::text)::text END`,
        fixup: 'numeric',
      };
    // ISO 8601 without zone for years 1–9999; the text otherwise (naiveTimestampToIso).
    case 1114:
      return {
        sql: `CASE WHEN ${x} IS NULL THEN 'null' WHEN ${x} >= '0001-01-01' AND ${x} < '10000-01-01' THEN '"' || overlay(${x}::text placing 'T' from 11 for 1) || '"' ELSE to_json(${x}::text)::text END`,
        fixup: 'timestamp',
      };
    // UTC ISO 8601 with Z for years 2–9998 (AD in any zone); the session text otherwise (timestamptzToIso).
    case 1184:
      return {
        sql: `CASE WHEN ${x} IS NULL THEN 'null' WHEN ${x} >= '0002-01-01 00:00:00+00' AND ${x} < '9999-01-01 00:00:00+00' THEN '"' || overlay((${x} AT TIME ZONE 'UTC')::text placing 'T' from 11 for 1) || 'Z"' ELSE to_json(${x}::text)::text END`,
        fixup: 'timestamptz',
      };
    default:
      return undefined;
  }
}

/**
 * The COPY statement that makes the database encode the rows of `select` (a `wrappableSelect`),
 * or undefined when a column has a type this path does not reproduce exactly, or none at all.
 * `serverMajor` below 13 has no `trim_scale`: numeric columns are then not handled.
 */
export function jsonCopyPlan(select: string, fields: ReadonlyArray<Pick<pg.FieldDef, 'dataTypeID'>>, serverMajor: number): JsonCopyPlan | undefined {
  if (fields.length === 0) return undefined;
  const parts: string[] = [];
  const fixups: Array<JsonRowFixup | null> = [];
  for (let i = 0; i < fields.length; i++) {
    const oid = fields[i]!.dataTypeID;
    if (oid === 1700 && serverMajor < 13) return undefined;
    const column = columnJson(`q.c${i + 1}`, oid);
    if (!column) return undefined;
    parts.push(column.sql);
    fixups.push(column.fixup);
  }
  const aliases = fields.map((_, i) => `c${i + 1}`).join(', ');
  // the newline ends a trailing line comment of the query
  const sql = `COPY (SELECT '[' || ${parts.join(" || ',' || ")} || ']' FROM (${select}\n) AS q(${aliases})) TO STDOUT`;
  return { sql, fixups };
}

const Z = 90; // 'Z'
const T = 84; // 'T'

/**
 * Applies the JS conversions to values the database sent as raw text. Returns true when a value
 * changed (the row's text must then be encoded again).
 */
export function fixJsonRow(values: unknown[], fixups: ReadonlyArray<JsonRowFixup | null>): boolean {
  let changed = false;
  for (let i = 0; i < fixups.length; i++) {
    const fixup = fixups[i];
    if (fixup === null) continue;
    const value = values[i];
    if (typeof value !== 'string') continue;
    let next: unknown;
    switch (fixup) {
      case 'float':
        next = floatToJson(value);
        break;
      case 'numeric':
        next = decimalToJson(value);
        break;
      case 'timestamp':
        if (value.charCodeAt(10) === T) continue;
        next = naiveTimestampToIso(value);
        break;
      case 'timestamptz':
        if (value.charCodeAt(value.length - 1) === Z) continue;
        next = timestamptzToIso(value);
        break;
    }
    if (next !== value) {
      values[i] = next;
      changed = true;
    }
  }
  return changed;
}

/**
 * Splits COPY text output into rows (one JSON array per line) and decodes COPY's escapes: JSON
 * text has no control characters, so the only escape in it is a doubled backslash.
 */
export class CopyLineSplitter {
  private rest: Buffer | null = null;

  /** The complete lines in `chunk` (with what was left of the previous one). */
  push(chunk: Buffer): string[] {
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      this.rest = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
      return [];
    }
    const head = this.rest ? Buffer.concat([this.rest, chunk.subarray(0, last)]) : chunk.subarray(0, last);
    this.rest = last + 1 < chunk.length ? chunk.subarray(last + 1) : null;
    const text = head.toString('utf8');
    const lines = text.split('\n');
    if (text.includes('\\')) {
      for (let i = 0; i < lines.length; i++) if (lines[i]!.includes('\\')) lines[i] = lines[i]!.replace(/\\\\/g, '\\');
    }
    return lines;
  }

  /** True when a partial line is left (the stream ended early). */
  get hasRest(): boolean {
    return this.rest !== null && this.rest.length > 0;
  }
}

/**
 * Sends Parse + Describe (statement) + Sync: the row description of `sql` without running it.
 * Resolves with the fields (null for a statement without a result set), rejects with the
 * database's error. A node-postgres submittable, like pg-cursor.
 */
export class DescribeStatement {
  private fields: pg.FieldDef[] | null = null;
  private error: unknown = null;
  readonly done: Promise<pg.FieldDef[] | null>;
  private settle!: () => void;

  constructor(private readonly text: string) {
    this.done = new Promise<void>((resolve) => {
      this.settle = resolve;
    }).then(() => {
      if (this.error) throw this.error;
      return this.fields;
    });
  }

  submit(connection: { parse(q: { text: string; types: number[] }): void; describe(m: { type: string; name?: string }): void; sync(): void }): void {
    connection.parse({ text: this.text, types: [] });
    connection.describe({ type: 'S', name: '' });
    connection.sync();
  }

  handleRowDescription(msg: { fields: pg.FieldDef[] }): void {
    this.fields = msg.fields;
  }

  handleError(err: unknown): void {
    // a database error is followed by ReadyForQuery, a broken connection by nothing: settle now
    this.error = err;
    this.settle();
  }

  handleReadyForQuery(): void {
    this.settle();
  }

  // not sent for Describe, but node-postgres may call them on any active query
  handleEmptyQuery(): void {}
  handleCommandComplete(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}
