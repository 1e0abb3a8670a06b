import type { DataType } from '../drivers/index.js';

/** Contract `ResultDataField`: one column of a stored result with its statistics. */
export interface ResultField {
  idx: number;
  name: string;
  human_name: string;
  data_type: DataType;
  unique_count: number;
  min_value: number | string | boolean | null;
  max_value: number | string | boolean | null;
  group_by: boolean;
}

const NUMERIC: ReadonlySet<DataType> = new Set(['Integer', 'BigInt', 'Float']);
const ORDERED: ReadonlySet<DataType> = new Set(['Integer', 'BigInt', 'Float', 'String', 'DateTime', 'Date', 'Time', 'Boolean']);
/** Exact distinct counting up to this many values per column, then a HyperLogLog estimate. */
const EXACT_LIMIT = 10_000;
const HLL_BITS = 12;
const HLL_SIZE = 1 << HLL_BITS;

const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a steps over the characters of `text`, from state `h`. */
function fnv(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** The murmur3 finaliser: mixes an FNV state into a well-spread 32-bit hash. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a with a murmur3 finaliser: fast, well-mixed 32-bit hash (not cryptographic). */
export function hash32(text: string): number {
  return finish(fnv(FNV_OFFSET, text));
}

/** FNV states after the prefix `hllKey` puts before a non-string key's text. */
const NUMBER_PREFIX = fnv(FNV_OFFSET, '\u0000number:');
const digits = new Uint8Array(24);

/**
 * `hash32(hllKey(key))` without building the key text: the prefix's state is precomputed, and a
 * safe integer's digits are hashed without converting it to a string (the same characters `String`
 * prints). Most keys of numeric columns take no allocation.
 */
export function hllHash(key: unknown): number {
  if (typeof key === 'string') return hash32(key);
  if (typeof key === 'number' && Number.isSafeInteger(key)) {
    let h = NUMBER_PREFIX;
    let n = key;
    if (n < 0) {
      h ^= 45; // '-'
      h = Math.imul(h, 0x01000193);
      n = -n;
    }
    let count = 0;
    do {
      digits[count++] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
    while (count > 0) {
      h ^= digits[--count]!;
      h = Math.imul(h, 0x01000193);
    }
    return finish(h);
  }
  if (typeof key === 'number') return finish(fnv(NUMBER_PREFIX, String(key)));
  return hash32(hllKey(key));
}

/** The text hashed for a distinct-count key; the type prefix keeps 1 and '1' apart. */
export function hllKey(key: unknown): string {
  return typeof key === 'string' ? key : `\u0000${typeof key}:${String(key)}`;
}

/** `created_at` → `Created At`, `totalRevenue` → `Total Revenue`. */
export function humanName(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_\-.]+/g, ' ')
    .trim()
    .split(/\s+/);
  return (
    words
      .filter(Boolean)
      .map((w) => w[0]!.toUpperCase() + w.slice(1))
      .join(' ') || name
  );
}

function compare(a: number | string | boolean, b: number | string | boolean, numeric: boolean): number {
  if (numeric) {
    const x = typeof a === 'number' ? a : Number(a);
    const y = typeof b === 'number' ? b : Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Running statistics of one column in bounded memory: distinct count (exact up to 10,000 values,
 * then HyperLogLog, ~1.6 % error), min and max for ordered types.
 */
export class ColumnStats {
  // Primitives are their own keys (a Set tells 1 from '1'); objects are keyed by their JSON.
  private exact: Set<unknown> | undefined = new Set();
  private registers: Uint8Array | undefined;
  private min: number | string | boolean | null = null;
  private max: number | string | boolean | null = null;
  private readonly numeric: boolean;
  private readonly ordered: boolean;

  constructor(private readonly dataType: DataType) {
    this.numeric = NUMERIC.has(dataType);
    this.ordered = ORDERED.has(dataType);
  }

  add(value: unknown): void {
    const key = value === undefined ? null : value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
    if (this.exact) {
      this.exact.add(key);
      if (this.exact.size > EXACT_LIMIT) {
        this.registers = new Uint8Array(HLL_SIZE);
        for (const k of this.exact) this.addHll(hllHash(k));
        this.exact = undefined;
      }
    } else {
      this.addHll(hllHash(key));
    }
    if (this.ordered && value !== null && value !== undefined && typeof value !== 'object') {
      const v = value as number | string | boolean;
      if (this.min === null || compare(v, this.min, this.numeric) < 0) this.min = v;
      if (this.max === null || compare(v, this.max, this.numeric) > 0) this.max = v;
    }
  }

  private addHll(x: number): void {
    const idx = x >>> (32 - HLL_BITS);
    const w = (x << HLL_BITS) >>> 0;
    const rank = w === 0 ? 32 - HLL_BITS + 1 : Math.clz32(w) + 1;
    if (rank > this.registers![idx]!) this.registers![idx] = rank;
  }

  uniqueCount(): number {
    if (this.exact) return this.exact.size;
    const m = HLL_SIZE;
    let sum = 0;
    let zeros = 0;
    for (const r of this.registers!) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / m);
    let estimate = (alpha * m * m) / sum;
    if (estimate <= 2.5 * m && zeros > 0) estimate = m * Math.log(m / zeros);
    return Math.round(estimate);
  }

  field(idx: number, name: string): ResultField {
    return {
      idx,
      name,
      human_name: humanName(name),
      data_type: this.dataType,
      unique_count: this.uniqueCount(),
      min_value: this.min,
      max_value: this.max,
      // Non-numeric columns are the dimensions a chart groups by.
      group_by: !this.numeric,
    };
  }
}
