// Value conversion shared by the drivers: every value a driver yields is JSON-safe and exact.

/** Strips a decimal string to a canonical form (`-0012.500` → `-12.5`) to compare values textually. */
function canonicalDecimal(text: string): string {
  let s = text.trim();
  let sign = '';
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? '-' : '';
    s = s.slice(1);
  }
  let [intPart = '', fracPart = ''] = s.split('.');
  intPart = intPart.replace(/^0+/, '') || '0';
  fracPart = fracPart.replace(/0+$/, '');
  const body = fracPart ? `${intPart}.${fracPart}` : intPart;
  return body === '0' ? '0' : sign + body;
}

const SHORT_DECIMAL = /^-?(?:0|[1-9]\d{0,14})(?:\.\d{1,15})?$/;

/**
 * A decimal/bigint text as a number when the number represents it exactly (and is a safe integer
 * for whole numbers), else the text itself, so no digit is ever lost. `NaN`/`Infinity` stay text.
 */
export function decimalToJson(text: string): number | string {
  // Fast path: at most 15 significant digits always round-trip through a double.
  if (text.length <= 17 && SHORT_DECIMAL.test(text) && text.length - (text.includes('.') ? 1 : 0) - (text.startsWith('-') ? 1 : 0) <= 15) return Number(text);
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) return text;
  if (Math.abs(n) > Number.MAX_SAFE_INTEGER) return text;
  const printed = String(n);
  if (printed.includes('e')) return text;
  return canonicalDecimal(printed) === canonicalDecimal(text) ? n : text;
}

/** An integer text (int8, BIGINT, unsigned) as a number when safe, else the text. */
export function bigIntToJson(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/** A float text as a number; `NaN`, `Infinity` and `-Infinity` (not JSON) stay text. */
export function floatToJson(text: string): number | string {
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

/** A naive `YYYY-MM-DD HH:MM:SS[.ffffff]` (database text form) as ISO-8601 without zone. */
export function naiveTimestampToIso(text: string): string {
  return text.replace(' ', 'T');
}

const UTC_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?\+00$/;
const TIMESTAMPTZ = /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?( BC)?$/;

/**
 * A PostgreSQL `timestamptz` text (`2024-03-01 12:00:00.123456+01`, in the session zone) as UTC
 * ISO-8601 with `Z`, keeping the fractional digits exactly. `infinity` and BC values stay as given.
 */
export function timestamptzToIso(text: string): string {
  // Fast path: a UTC session prints `YYYY-MM-DD HH:MM:SS[.ffffff]+00`.
  if (UTC_TIMESTAMPTZ.test(text)) return `${text.slice(0, 10)}T${text.slice(11, -3)}Z`;
  const m = TIMESTAMPTZ.exec(text);
  if (!m || m[12]) return text;
  const [, y, mo, d, h, mi, s, frac, sign, oh, om, os] = m;
  const offsetSeconds = (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0));
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s) - offsetSeconds, 0);
  const year = date.getUTCFullYear();
  const yearText = year > 9999 ? String(year) : String(year).padStart(4, '0');
  const p2 = (v: number) => String(v).padStart(2, '0');
  return `${yearText}-${p2(date.getUTCMonth() + 1)}-${p2(date.getUTCDate())}T${p2(date.getUTCHours())}:${p2(date.getUTCMinutes())}:${p2(date.getUTCSeconds())}${frac ?? ''}Z`;
}

/** Binary data as base64 text. */
export function binaryToJson(buffer: Buffer): string {
  return buffer.toString('base64');
}

/** JSON text that is spliced into an encoded array as it is (keeps every digit of big numbers). */
class RawJson {
  constructor(readonly text: string) {}
}

/** Marks an element's text as JSON to embed verbatim (elements of `json[]`/`jsonb[]`). */
export function rawJsonElement(text: string): unknown {
  return new RawJson(text);
}

function encodeJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(encodeJson).join(',')}]`;
  if (value instanceof RawJson) return value.text;
  return JSON.stringify(value) ?? 'null';
}

/**
 * A PostgreSQL array literal as JSON array text (`{1,NULL,3}` → `[1,null,3]`), elements converted
 * with `convert` (nested arrays stay nested). Rows hold only scalars (contract §3.14): an array
 * travels as this text, and the field's `data_type` (`IntegerArray`, …) says what it holds.
 */
export function pgArrayToJsonText(text: string, convert: (element: string) => unknown, delimiter = ','): string {
  return encodeJson(parsePgArray(text, convert, delimiter));
}

/**
 * Parses a PostgreSQL array literal (`{1,2,NULL,"a,b",{3,4}}`, optionally `[0:1]={…}`) and converts
 * each non-null element with `convert`. Nested arrays become nested arrays.
 */
export function parsePgArray(text: string, convert: (element: string) => unknown, delimiter = ','): unknown[] {
  let pos = 0;
  if (text.startsWith('[')) {
    const eq = text.indexOf('=');
    pos = eq + 1;
  }
  function parseArray(): unknown[] {
    if (text[pos] !== '{') throw new Error(`Malformed array literal: ${text.slice(0, 40)}`);
    pos++;
    const out: unknown[] = [];
    if (text[pos] === '}') {
      pos++;
      return out;
    }
    for (;;) {
      const ch = text[pos];
      if (ch === '{') {
        out.push(parseArray());
      } else if (ch === '"') {
        pos++;
        let value = '';
        while (pos < text.length && text[pos] !== '"') {
          if (text[pos] === '\\') pos++;
          value += text[pos];
          pos++;
        }
        pos++;
        out.push(convert(value));
      } else {
        let end = pos;
        while (end < text.length && text[end] !== delimiter && text[end] !== '}') end++;
        const raw = text.slice(pos, end).trim();
        pos = end;
        out.push(raw.toUpperCase() === 'NULL' ? null : convert(raw));
      }
      const sep = text[pos];
      pos++;
      if (sep === '}') return out;
      if (sep !== delimiter) throw new Error(`Malformed array literal: ${text.slice(0, 40)}`);
    }
  }
  return parseArray();
}

const WORD_CHAR = /^[\p{L}\p{N}_]$/u;
/** The password part of URL userinfo: `scheme://user:<password>@`. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)([^\s@/?#]*)@/gi;

/** The code point ending just before index `i` (undefined at the start). */
function charBefore(text: string, i: number): string | undefined {
  if (i <= 0) return undefined;
  const code = text.charCodeAt(i - 1);
  const start = code >= 0xdc00 && code <= 0xdfff && i >= 2 ? i - 2 : i - 1;
  return String.fromCodePoint(text.codePointAt(start)!);
}

/** The code point starting at index `i` (undefined at the end). */
function charAt(text: string, i: number): string | undefined {
  return i < text.length ? String.fromCodePoint(text.codePointAt(i)!) : undefined;
}

const isWordChar = (ch: string | undefined) => ch !== undefined && WORD_CHAR.test(ch);

/**
 * Replaces whole occurrences of `secret` with `***`: an occurrence counts only where it is not part
 * of a longer word (the `\b` rule: a secret edge that is a letter, digit or `_` must not touch
 * another one). Masking substrings inside words would reveal the secret's characters (password `x`
 * turning "unexpectedly" into "une***pectedly").
 */
function maskWhole(message: string, secret: string): string {
  const first = charAt(secret, 0);
  const last = charBefore(secret, secret.length);
  let out = '';
  let from = 0;
  for (let i = message.indexOf(secret); i !== -1; i = message.indexOf(secret, i + 1)) {
    if (i < from) continue;
    const end = i + secret.length;
    const leftOk = !isWordChar(first) || !isWordChar(charBefore(message, i));
    const rightOk = !isWordChar(last) || !isWordChar(charAt(message, end));
    if (leftOk && rightOk) {
      out += `${message.slice(from, i)}***`;
      from = end;
    }
  }
  return from === 0 ? message : out + message.slice(from);
}

/**
 * Removes a password from a driver message: the password part of any connection string
 * (`scheme://user:***@host`), and whole, delimited occurrences of the password and of its
 * URL-encoded form. Every other character of the message stays as it was.
 */
export function redactSecret(message: string, secret: string | null | undefined): string {
  let out = message.replace(URL_PASSWORD, '$1***@');
  if (!secret) return out;
  out = maskWhole(out, secret);
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out = maskWhole(out, encoded);
  return out;
}
