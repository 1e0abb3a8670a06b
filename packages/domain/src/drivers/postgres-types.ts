// PostgreSQL type OIDs → DataType and value parsers. Parsers are handed to each client through its
// own `types` option: the global `pg.types` registry belongs to Sightline's knex pool.
import type { DataType } from './driver.types.js';
import { bigIntToJson, binaryToJson, decimalToJson, floatToJson, naiveTimestampToIso, pgArrayToJsonText, rawJsonElement, timestamptzToIso } from './values.js';

type Parser = (text: string) => unknown;

interface PgTypeInfo {
  dataType: DataType;
  name: string;
  parse?: Parser;
}

const parseBool: Parser = (t) => t === 't' || t === 'true';
const parseInteger: Parser = (t) => Number(t);
const parseBytea: Parser = (t) => binaryToJson(t.startsWith('\\x') ? Buffer.from(t.slice(2), 'hex') : Buffer.from(unescapeBytea(t), 'latin1'));

/** Decodes the legacy `escape` bytea output (`bytea_output = escape`). */
function unescapeBytea(text: string): string {
  return text.replace(/\\(\\|[0-7]{3})/g, (_, seq: string) => (seq === '\\' ? '\\' : String.fromCharCode(parseInt8(seq))));
}
function parseInt8(octal: string): number {
  return Number.parseInt(octal, 8);
}

// Scalar types: oid → info; arrays are declared next to their element.
const SCALARS: Array<[number, number | null, PgTypeInfo]> = [
  [16, 1000, { dataType: 'Boolean', name: 'bool', parse: parseBool }],
  [17, 1001, { dataType: 'Binary', name: 'bytea', parse: parseBytea }],
  [18, 1002, { dataType: 'String', name: 'char' }],
  [19, 1003, { dataType: 'String', name: 'name' }],
  [20, 1016, { dataType: 'BigInt', name: 'int8', parse: bigIntToJson }],
  [21, 1005, { dataType: 'Integer', name: 'int2', parse: parseInteger }],
  [23, 1007, { dataType: 'Integer', name: 'int4', parse: parseInteger }],
  [26, 1028, { dataType: 'Integer', name: 'oid', parse: parseInteger }],
  [25, 1009, { dataType: 'String', name: 'text' }],
  // JSON stays the database's text (a scalar; `data_type` JSON says what it is), every digit kept.
  [114, 199, { dataType: 'JSON', name: 'json' }],
  [3802, 3807, { dataType: 'JSON', name: 'jsonb' }],
  [142, 143, { dataType: 'String', name: 'xml' }],
  [700, 1021, { dataType: 'Float', name: 'float4', parse: floatToJson }],
  [701, 1022, { dataType: 'Float', name: 'float8', parse: floatToJson }],
  [1700, 1231, { dataType: 'Float', name: 'numeric', parse: decimalToJson }],
  [790, 791, { dataType: 'String', name: 'money' }],
  [1042, 1014, { dataType: 'String', name: 'bpchar' }],
  [1043, 1015, { dataType: 'String', name: 'varchar' }],
  [2950, 2951, { dataType: 'String', name: 'uuid' }],
  [869, 1041, { dataType: 'String', name: 'inet' }],
  [650, 651, { dataType: 'String', name: 'cidr' }],
  [829, 1040, { dataType: 'String', name: 'macaddr' }],
  [774, 775, { dataType: 'String', name: 'macaddr8' }],
  [1186, 1187, { dataType: 'String', name: 'interval' }],
  [1560, 1561, { dataType: 'String', name: 'bit' }],
  [1562, 1563, { dataType: 'String', name: 'varbit' }],
  [1082, 1182, { dataType: 'Date', name: 'date' }],
  [1083, 1183, { dataType: 'Time', name: 'time' }],
  [1266, 1270, { dataType: 'Time', name: 'timetz' }],
  [1114, 1115, { dataType: 'DateTime', name: 'timestamp', parse: naiveTimestampToIso }],
  [1184, 1185, { dataType: 'DateTime', name: 'timestamptz', parse: timestamptzToIso }],
  [2249, 2287, { dataType: 'Record', name: 'record' }],
  [705, null, { dataType: 'String', name: 'unknown' }],
  [3614, 3643, { dataType: 'String', name: 'tsvector' }],
  [600, 1017, { dataType: 'Other', name: 'point' }],
  [3904, 3905, { dataType: 'Other', name: 'int4range' }],
  [3926, 3927, { dataType: 'Other', name: 'int8range' }],
  [3906, 3907, { dataType: 'Other', name: 'numrange' }],
  [3908, 3909, { dataType: 'Other', name: 'tsrange' }],
  [3910, 3911, { dataType: 'Other', name: 'tstzrange' }],
  [3912, 3913, { dataType: 'Other', name: 'daterange' }],
  // Catalog-internal types.
  [24, 1008, { dataType: 'Internal', name: 'regproc' }],
  [27, 1010, { dataType: 'Internal', name: 'tid' }],
  [28, 1011, { dataType: 'Internal', name: 'xid' }],
  [29, 1012, { dataType: 'Internal', name: 'cid' }],
  [30, 1013, { dataType: 'Internal', name: 'oidvector' }],
  [194, null, { dataType: 'Internal', name: 'pg_node_tree' }],
  [1033, 1034, { dataType: 'Internal', name: 'aclitem' }],
  [2205, 2210, { dataType: 'Internal', name: 'regclass' }],
  [2206, 2211, { dataType: 'Internal', name: 'regtype' }],
  [3220, 3221, { dataType: 'Internal', name: 'pg_lsn' }],
  [5069, 271, { dataType: 'Internal', name: 'xid8' }],
];

const ARRAY_OF: Partial<Record<DataType, DataType>> = {
  Boolean: 'BooleanArray',
  Binary: 'BinaryArray',
  Float: 'FloatArray',
  Integer: 'IntegerArray',
  BigInt: 'BigIntArray',
  Record: 'RecordArray',
  String: 'StringArray',
  Date: 'DateArray',
  Time: 'TimeArray',
  DateTime: 'DateTimeArray',
  JSON: 'JSONArray',
};

/** Array type of an element data type (`Integer` → `IntegerArray`; unknown → `OtherArray`). */
export function arrayDataTypeOf(element: DataType): DataType {
  return ARRAY_OF[element] ?? 'OtherArray';
}

const TYPES = new Map<number, PgTypeInfo>();
for (const [oid, arrayOid, info] of SCALARS) {
  TYPES.set(oid, info);
  if (arrayOid !== null) {
    const element = info.dataType === 'JSON' ? rawJsonElement : (info.parse ?? ((t: string) => t));
    // Arrays travel as JSON array text: rows hold only scalars (contract §3.14).
    TYPES.set(arrayOid, {
      dataType: arrayDataTypeOf(info.dataType),
      name: `_${info.name}`,
      parse: (text) => pgArrayToJsonText(text, element),
    });
  }
}

/** DataType of a type OID (unknown OIDs, e.g. enums or extension types, are `Other`). */
export function pgDataTypeOf(oid: number): DataType {
  return TYPES.get(oid)?.dataType ?? 'Other';
}

/** Type name of a known OID, else `oid:<n>`. */
export function pgTypeNameOf(oid: number): string {
  return TYPES.get(oid)?.name ?? `oid:${oid}`;
}

const identity: Parser = (text) => text;

/**
 * The `types` option of a `pg.Client`: text-format parsers producing exact scalar values (number,
 * string, boolean). Types without a parser (text, uuid, json, ranges, composites, enums, …) stay
 * their text; arrays become JSON array text.
 */
export const postgresClientTypes = {
  getTypeParser(oid: number, format?: string): Parser {
    if (format === 'binary') return identity;
    return TYPES.get(oid)?.parse ?? identity;
  },
};
