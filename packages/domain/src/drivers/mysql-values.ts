// MySQL/MariaDB column types → DataType and value converters, and `?` placeholder binding.
import type { DataType } from './driver.types.js';
import { bigIntToJson, binaryToJson, decimalToJson, floatToJson, naiveTimestampToIso } from './values.js';
import { skipNonCode } from '../query/sql-lexer.js';

/** The column metadata mysql2 hands to the `fields` event. */
export interface MysqlFieldInfo {
  name: string;
  columnType: number;
  characterSet: number;
  columnLength: number;
  flags: number;
}

const BINARY_CHARSET = 63;

// Protocol column type ids (include/mysql_com.h, enum_field_types).
const T = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/** Type names whose raw bytes the `typeCast` hands over (converted per column afterwards). */
const BYTE_TYPES = new Set(['VARCHAR', 'VAR_STRING', 'STRING', 'BLOB', 'TINY_BLOB', 'MEDIUM_BLOB', 'LONG_BLOB', 'BIT', 'GEOMETRY', 'JSON', 'ENUM', 'SET']);

/**
 * mysql2 `typeCast`: strings/blobs/bits as raw bytes (their text/binary nature is known only from the
 * column charset), everything else as the server's text. No value goes through a JS Date.
 */
export function mysqlTypeCast(field: { type: string; buffer(): Buffer | null; string(): string | null }): unknown {
  return BYTE_TYPES.has(field.type) ? field.buffer() : field.string();
}

function isBinary(f: MysqlFieldInfo): boolean {
  return f.characterSet === BINARY_CHARSET;
}

const ZERO_DATE = /^0000-00-00/;

/** DataType and database type name of a result column. */
export function mysqlColumnType(f: MysqlFieldInfo): { dbType: string; dataType: DataType } {
  switch (f.columnType) {
    case T.TINY:
      return { dbType: 'TINYINT', dataType: 'Integer' };
    case T.SHORT:
      return { dbType: 'SMALLINT', dataType: 'Integer' };
    case T.INT24:
      return { dbType: 'MEDIUMINT', dataType: 'Integer' };
    case T.LONG:
      return { dbType: 'INT', dataType: 'Integer' };
    case T.YEAR:
      return { dbType: 'YEAR', dataType: 'Integer' };
    case T.LONGLONG:
      return { dbType: 'BIGINT', dataType: 'BigInt' };
    case T.FLOAT:
      return { dbType: 'FLOAT', dataType: 'Float' };
    case T.DOUBLE:
      return { dbType: 'DOUBLE', dataType: 'Float' };
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return { dbType: 'DECIMAL', dataType: 'Float' };
    case T.DATE:
    case T.NEWDATE:
      return { dbType: 'DATE', dataType: 'Date' };
    case T.DATETIME:
      return { dbType: 'DATETIME', dataType: 'DateTime' };
    case T.TIMESTAMP:
      return { dbType: 'TIMESTAMP', dataType: 'DateTime' };
    case T.TIME:
      return { dbType: 'TIME', dataType: 'Time' };
    case T.BIT:
      return { dbType: 'BIT', dataType: f.columnLength === 1 ? 'Boolean' : 'Integer' };
    case T.JSON:
      return { dbType: 'JSON', dataType: 'JSON' };
    case T.ENUM:
      return { dbType: 'ENUM', dataType: 'String' };
    case T.SET:
      return { dbType: 'SET', dataType: 'String' };
    case T.GEOMETRY:
      return { dbType: 'GEOMETRY', dataType: 'Other' };
    case T.NULL:
      return { dbType: 'NULL', dataType: 'Other' };
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
      return isBinary(f) ? { dbType: 'BLOB', dataType: 'Binary' } : { dbType: 'TEXT', dataType: 'String' };
    case T.STRING:
      return isBinary(f) ? { dbType: 'BINARY', dataType: 'Binary' } : { dbType: 'CHAR', dataType: 'String' };
    case T.VARCHAR:
    case T.VAR_STRING:
      return isBinary(f) ? { dbType: 'VARBINARY', dataType: 'Binary' } : { dbType: 'VARCHAR', dataType: 'String' };
    default:
      return { dbType: `type:${f.columnType}`, dataType: 'Other' };
  }
}

type Converter = (raw: unknown) => unknown;

function asText(raw: unknown): string {
  return Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
}

function bitsToJson(buf: Buffer, length: number): unknown {
  if (length === 1) return buf.some((b) => b !== 0);
  let value = 0n;
  for (const b of buf) value = (value << 8n) | BigInt(b);
  return bigIntToJson(value.toString());
}

/** The converter of one result column: raw typeCast output → JSON-safe value. */
export function mysqlConverter(f: MysqlFieldInfo): Converter {
  const { dataType } = mysqlColumnType(f);
  switch (f.columnType) {
    case T.TINY:
    case T.SHORT:
    case T.INT24:
    case T.LONG:
    case T.YEAR:
      return (raw) => Number(raw);
    case T.LONGLONG:
      return (raw) => bigIntToJson(String(raw));
    case T.FLOAT:
    case T.DOUBLE:
      return (raw) => floatToJson(String(raw));
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return (raw) => decimalToJson(String(raw));
    case T.DATE:
    case T.NEWDATE:
      return (raw) => (ZERO_DATE.test(String(raw)) ? null : String(raw));
    case T.DATETIME:
    case T.TIMESTAMP:
      return (raw) => (ZERO_DATE.test(String(raw)) ? null : naiveTimestampToIso(String(raw)));
    case T.TIME:
      return (raw) => String(raw);
    case T.BIT:
      return (raw) => (Buffer.isBuffer(raw) ? bitsToJson(raw, f.columnLength) : raw);
    case T.JSON:
      // the server's JSON text: a scalar (rows hold no objects), every digit kept
      return asText;
    case T.GEOMETRY:
      return (raw) => (Buffer.isBuffer(raw) ? binaryToJson(raw) : raw);
    default:
      if (dataType === 'Binary') return (raw) => (Buffer.isBuffer(raw) ? binaryToJson(raw) : raw);
      return asText;
  }
}

/** Converts a row in place with the column converters. */
export function convertRow(row: unknown[], converters: Converter[]): unknown[] {
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (v !== null && v !== undefined) row[i] = converters[i]!(v);
    else row[i] = null;
  }
  return row;
}

/** DataType of an `information_schema.COLUMNS` entry (DATA_TYPE + COLUMN_TYPE). */
export function mysqlCatalogDataType(dataType: string, columnType: string): DataType {
  const t = dataType.toLowerCase();
  switch (t) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'year':
      return 'Integer';
    case 'bigint':
      return 'BigInt';
    case 'float':
    case 'double':
    case 'real':
    case 'decimal':
    case 'numeric':
      return 'Float';
    case 'date':
      return 'Date';
    case 'datetime':
    case 'timestamp':
      return 'DateTime';
    case 'time':
      return 'Time';
    case 'bit':
      return /^bit\(1\)/i.test(columnType) ? 'Boolean' : 'Integer';
    case 'json':
      return 'JSON';
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return 'Binary';
    case 'char':
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
    case 'enum':
    case 'set':
    case 'uuid':
    case 'inet4':
    case 'inet6':
      return 'String';
    default:
      return 'Other';
  }
}

// ---- binding ----

export class PlaceholderMismatchError extends Error {}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** A Date as `YYYY-MM-DD HH:MM:SS.mmm` wall-clock time in `timeZone` (the session zone). */
export function formatDateInZone(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  return `${get('year').padStart(4, '0')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}.${pad(date.getUTCMilliseconds(), 3)}`;
}

/** A string literal; backslashes are escapes unless the session runs with NO_BACKSLASH_ESCAPES. */
export function quoteMysqlString(value: string, noBackslashEscapes: boolean): string {
  if (noBackslashEscapes) return `'${value.replace(/'/g, "''")}'`;
  return `'${value.replace(/[\0\n\r\x1a\\']/g, (ch) => {
    switch (ch) {
      case '\0':
        return '\\0';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\x1a':
        return '\\Z';
      case "'":
        return "''";
      default:
        return '\\\\';
    }
  })}'`;
}

/** A bound value as a SQL literal. */
export function mysqlLiteral(value: unknown, ctx: { noBackslashEscapes: boolean; timeZone: string }): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new PlaceholderMismatchError(`Cannot bind the non-finite number ${value}`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return quoteMysqlString(value, ctx.noBackslashEscapes);
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new PlaceholderMismatchError('Cannot bind an invalid date');
    return `'${formatDateInZone(value, ctx.timeZone)}'`;
  }
  if (Buffer.isBuffer(value)) return `X'${value.toString('hex')}'`;
  if (Array.isArray(value)) return value.map((v) => (Array.isArray(v) ? `(${mysqlLiteral(v, ctx)})` : mysqlLiteral(v, ctx))).join(', ');
  return quoteMysqlString(JSON.stringify(value), ctx.noBackslashEscapes);
}

/**
 * Replaces each `?` placeholder outside string literals, quoted identifiers and comments with the
 * literal of the next value. @throws PlaceholderMismatchError when counts differ
 */
export function bindMysqlPlaceholders(sql: string, values: unknown[], ctx: { noBackslashEscapes: boolean; timeZone: string }): string {
  if (values.length === 0) return sql;
  let out = '';
  let index = 0;
  let i = 0;
  while (i < sql.length) {
    // string literals, quoted identifiers and comments are copied as they are (the shared SQL lexer)
    const skipped = skipNonCode(sql, i, 'mysql', { noBackslashEscapes: ctx.noBackslashEscapes });
    if (skipped > i) {
      out += sql.slice(i, skipped);
      i = skipped;
    } else if (sql[i] === '?') {
      if (index >= values.length) throw new PlaceholderMismatchError(`The statement has more placeholders than the ${values.length} bound values`);
      out += mysqlLiteral(values[index++], ctx);
      i++;
    } else {
      out += sql[i];
      i++;
    }
  }
  if (index !== values.length) throw new PlaceholderMismatchError(`The statement has ${index} placeholders but ${values.length} values were bound`);
  return out;
}
