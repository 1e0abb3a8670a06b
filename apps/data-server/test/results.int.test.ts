import { execFile } from 'node:child_process';
import jwt from 'jsonwebtoken';
import { promisify } from 'node:util';
import { crc32, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataTokens, GZIP_HEADER, spliceableRun, type ResultColumn, type StoredResult } from '@sightline/domain';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';
import { TOKEN_SECRET, createDataTestContext, dataAuth, type DataTestContext, type RawResponse } from './support/data-context.js';

const execFileAsync = promisify(execFile);

let t: DataTestContext;

const MIXED_COLUMNS: ResultColumn[] = [
  { name: 'id', dbType: 'int4', dataType: 'Integer' },
  { name: 'name', dbType: 'text', dataType: 'String' },
  { name: 'price', dbType: 'float8', dataType: 'Float' },
  { name: 'active', dbType: 'bool', dataType: 'Boolean' },
  { name: 'meta', dbType: 'jsonb', dataType: 'JSON' },
  { name: 'big', dbType: 'int8', dataType: 'BigInt' },
];
// As the drivers yield them: JSON values as their JSON text (rows hold only scalars).
const MIXED_ROWS: unknown[][] = [
  [1, 'plain', 1.5, true, '{"a":[1,{"b":"x"}]}', '9007199254740993'],
  [2, 'Zürich — 東京 🚀', -0.25, false, '[]', '-42'],
  [3, 'comma, semi; tab\there', 1e21, null, '{"quote":"say \\"hi\\""}', null],
  [4, 'line\nbreak and "quotes"', 0, true, null, '0'],
  [null, null, null, null, null, null],
  [6, '', 12345.678, false, '{"nested":{"deep":[null,true,2.5]}}', '12'],
];

const BIG_COLUMNS: ResultColumn[] = [
  { name: 'n', dbType: 'int4', dataType: 'Integer' },
  { name: 'label', dbType: 'text', dataType: 'String' },
  { name: 'half', dbType: 'float8', dataType: 'Float' },
  { name: 'flag', dbType: 'bool', dataType: 'Boolean' },
  { name: 'doc', dbType: 'jsonb', dataType: 'JSON' },
];
const BIG_ROW_COUNT = 60_000;
const bigRow = (i: number): unknown[] => [i, `row ${i} ünïcødé ${'x'.repeat(i % 23)}`, i / 2, i % 3 === 0 ? null : i % 2 === 0, `{"k":${i},"arr":[${i},"v"]}`];
const BIG_ROWS = Array.from({ length: BIG_ROW_COUNT }, (_, i) => bigRow(i));

const MIXED_KEY = 'org1/sql_query/mixed0001';
const BIG_KEY = 'org1/sql_query/big0000002';
const EMPTY_KEY = 'org1/sql_query/empty00003';
const SCHEMA_KEY = 'org1/schema/abcdef';
const SCHEMA_DOCUMENT = {
  schemas: [
    {
      name: 'public',
      tables: [
        {
          name: 'orders',
          columns: [
            { name: 'id', db_type: 'int4', data_type: 'Integer' },
            { name: 'note', db_type: 'text', data_type: 'String' },
          ],
        },
      ],
    },
  ],
};

let big: StoredResult;
let mixed: StoredResult;

const GZIP = { 'Accept-Encoding': 'gzip' };
const IDENTITY = { 'Accept-Encoding': 'identity' };

function expectJsonApiError(res: RawResponse, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toContain('application/vnd.api+json');
  expect(res.json.errors[0]).toMatchObject({ code: String(status), status: String(status) });
  expectValidJsonApi(res.json);
}

function decoded(res: RawResponse): Buffer {
  return res.headers['content-encoding'] === 'gzip' ? gunzipSync(res.body) : res.body;
}

beforeAll(async () => {
  t = await createDataTestContext();
  mixed = await t.storeRows({ dataKey: MIXED_KEY, columns: MIXED_COLUMNS, rows: MIXED_ROWS, timeZone: 'Europe/Berlin', rowLimitReached: true });
  big = await t.storeRows({ dataKey: BIG_KEY, columns: BIG_COLUMNS, rows: BIG_ROWS });
  await t.storeRows({ dataKey: EMPTY_KEY, columns: BIG_COLUMNS, rows: [] });
  await t.storeDocument({ dataKey: SCHEMA_KEY, document: SCHEMA_DOCUMENT });
}, 120_000);
afterAll(async () => {
  await t.close();
});

describe('GET /results/<dataKey> as JSON', () => {
  it('serves exactly what was written, with the contract metadata', async () => {
    const res = await t.request(`/results/${MIXED_KEY}`, { ...dataAuth(t.token(MIXED_KEY)), ...IDENTITY });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.json).toEqual({
      execution_id: mixed.executionId,
      data_timestamp: Date.parse('2026-11-23T10:00:00.000Z') / 1000,
      sql_rows: 6,
      sql_columns: 6,
      size_in_bytes: mixed.sizeInBytes,
      time_zone: 'Europe/Berlin',
      row_limit_reached: true,
      fields: mixed.fields,
      rows: MIXED_ROWS,
    });
    expect(res.json.fields.map((f: { name: string }) => f.name)).toEqual(['id', 'name', 'price', 'active', 'meta', 'big']);
    expect(Number.isInteger(res.json.data_timestamp)).toBe(true);
  });

  it('stores only scalars: values a driver hands in as objects, arrays, buffers or bigints arrive as text', async () => {
    const key = 'org1/sql_query/nonscalar01';
    const columns: ResultColumn[] = [
      { name: 'doc', dbType: 'jsonb', dataType: 'JSON' },
      { name: 'list', dbType: '_int4', dataType: 'IntegerArray' },
      { name: 'raw', dbType: 'bytea', dataType: 'Binary' },
      { name: 'huge', dbType: 'int8', dataType: 'BigInt' },
      { name: 'odd', dbType: 'float8', dataType: 'Float' },
    ];
    await t.storeRows({
      dataKey: key,
      columns,
      rows: [
        [{ a: [1, { b: 'ü' }] }, [1, null, 3], Buffer.from([0, 255]), 2n ** 64n, Number.NaN],
        [null, [], null, 5n, 1.5],
      ],
    });
    const res = await t.request(`/results/${key}`, { ...dataAuth(t.token(key)), ...IDENTITY });
    expect(res.json.rows).toEqual([
      ['{"a":[1,{"b":"ü"}]}', '[1,null,3]', 'AP8=', '18446744073709551616', 'NaN'],
      [null, '[]', null, 5, 1.5],
    ]);
    expect(res.json.fields.map((f: { unique_count: number }) => f.unique_count)).toEqual([2, 2, 2, 2, 2]);
  });

  it('streams a multi-chunk result identical to the written rows; size_in_bytes is the rows text', async () => {
    expect(big.chunkCount).toBeGreaterThanOrEqual(3);
    const res = await t.request(`/results/${BIG_KEY}`, dataAuth(t.token(BIG_KEY)));
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.json.sql_rows).toBe(BIG_ROW_COUNT);
    expect(res.json.rows).toEqual(BIG_ROWS);
    const text = res.body.toString('utf8');
    const rowsText = text.slice(text.indexOf('"rows":') + '"rows":'.length, -1);
    expect(Buffer.byteLength(rowsText)).toBe(res.json.size_in_bytes);
  });

  it('passes the stored gzip members through and decodes to the same document', async () => {
    const identity = await t.request(`/results/${BIG_KEY}`, { ...dataAuth(t.token(BIG_KEY)), ...IDENTITY });
    const gz = await t.request(`/results/${BIG_KEY}`, { ...dataAuth(t.token(BIG_KEY)), 'Accept-Encoding': 'br;q=1, gzip;q=0.8' });
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toContain('Accept-Encoding');
    expect(gunzipSync(gz.body).equals(identity.body)).toBe(true);
    expect(gz.body.length).toBeLessThan(identity.body.length / 2);
    // the deflate data of every stored chunk appears byte for byte in the response
    const chunks = [];
    for await (const chunk of t.store.readChunks(big.executionId, 0, big.chunkCount - 1)) chunks.push(chunk);
    expect(chunks).toHaveLength(big.chunkCount);
    for (const chunk of chunks) expect(gz.body.indexOf(spliceableRun(chunk.bytes)!.deflate)).toBeGreaterThan(0);
    // ONE gzip member: raw inflate of everything between header and trailer gives the whole body,
    // and the trailer holds its CRC-32 and length
    expect(gz.body.subarray(0, 10).equals(GZIP_HEADER)).toBe(true);
    expect(inflateRawSync(gz.body.subarray(10, -8)).equals(identity.body)).toBe(true);
    expect(gz.body.readUInt32LE(gz.body.length - 8)).toBe(crc32(identity.body));
    expect(gz.body.readUInt32LE(gz.body.length - 4)).toBe(identity.body.length);
  });

  it('is decoded by curl --compressed', async () => {
    const token = t.token(BIG_KEY);
    const { stdout } = await execFileAsync('curl', ['-sS', '--compressed', '-H', `Authorization: Data ${token}`, `${t.server.url}/results/${BIG_KEY}`], {
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'buffer',
    });
    const identity = await t.request(`/results/${BIG_KEY}`, dataAuth(token));
    expect(stdout.equals(identity.body)).toBe(true);
  });

  it('recompresses chunks stored in another gzip shape (plain members) and still sends one member', async () => {
    const key = 'org1/sql_query/plaingzip06';
    const stored = await t.storeRows({ dataKey: key, columns: BIG_COLUMNS, rows: BIG_ROWS.slice(0, 30_000) });
    expect(stored.chunkCount).toBeGreaterThanOrEqual(2);
    const chunks = await t.database.db('result_chunks').where({ execution_id: stored.executionId }).select('seq', 'bytes');
    for (const c of chunks as Array<{ seq: number; bytes: Buffer }>) {
      await t.database
        .db('result_chunks')
        .where({ execution_id: stored.executionId, seq: c.seq })
        .update({ bytes: gzipSync(gunzipSync(c.bytes)) });
    }
    const gz = await t.request(`/results/${key}`, { ...dataAuth(t.token(key)), ...GZIP });
    const identity = await t.request(`/results/${key}`, { ...dataAuth(t.token(key)), ...IDENTITY });
    expect(identity.json.rows).toEqual(BIG_ROWS.slice(0, 30_000));
    expect(inflateRawSync(gz.body.subarray(10, -8)).equals(identity.body)).toBe(true);
    expect(gz.body.readUInt32LE(gz.body.length - 8)).toBe(crc32(identity.body));
  });

  it('serves an empty result', async () => {
    for (const headers of [GZIP, IDENTITY]) {
      const res = await t.request(`/results/${EMPTY_KEY}`, { ...dataAuth(t.token(EMPTY_KEY)), ...headers });
      expect(res.status).toBe(200);
      const body = JSON.parse(decoded(res).toString('utf8'));
      expect(body.rows).toEqual([]);
      expect(body.sql_rows).toBe(0);
      expect(body.fields).toHaveLength(5);
    }
  });

  it('ignores gzip;q=0 and sends identity', async () => {
    const res = await t.request(`/results/${MIXED_KEY}`, { ...dataAuth(t.token(MIXED_KEY)), 'Accept-Encoding': 'gzip;q=0' });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.json.rows).toEqual(MIXED_ROWS);
  });

  it('serves the newest result of a data key', async () => {
    const key = 'org1/sql_query/newest0004';
    await t.storeRows({ dataKey: key, columns: MIXED_COLUMNS.slice(0, 1), rows: [[1]] });
    await t.storeRows({ dataKey: key, columns: MIXED_COLUMNS.slice(0, 1), rows: [[2]] });
    const res = await t.request(`/results/${key}`, dataAuth(t.token(key)));
    expect(res.json.rows).toEqual([[2]]);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await t.request(`/results/${BIG_KEY}`, { ...dataAuth(t.token(BIG_KEY)), ...GZIP }, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.body.length).toBe(0);
    const denied = await t.request(`/results/${BIG_KEY}`, {}, 'HEAD');
    expect(denied.status).toBe(401);
  });
});

describe('CSV', () => {
  const csvToken = (csv?: { columnSeparator: ',' | ';' | '\t'; decimalSeparator: '.' | ',' | '/'; quoteStyle: 'necessary' | 'always' }) =>
    t.token(MIXED_KEY, { format: 'csv', csv });

  it('is the default of a token issued for csv (defaults , . necessary)', async () => {
    const res = await t.request(`/results/${MIXED_KEY}`, dataAuth(csvToken()));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="result-${mixed.executionId}.csv"`);
    expect(res.body.toString('utf8')).toBe(
      [
        'id,name,price,active,meta,big',
        '1,plain,1.5,true,"{""a"":[1,{""b"":""x""}]}",9007199254740993',
        '2,Zürich — 東京 🚀,-0.25,false,[],-42',
        '3,"comma, semi; tab\there",1e+21,,"{""quote"":""say \\""hi\\""""}",',
        '4,"line\nbreak and ""quotes""",0,true,,0',
        ',,,,,',
        '6,,12345.678,false,"{""nested"":{""deep"":[null,true,2.5]}}",12',
        '',
      ].join('\r\n'),
    );
  });

  it('honours ; with decimal comma', async () => {
    const res = await t.request(`/results/${MIXED_KEY}`, dataAuth(csvToken({ columnSeparator: ';', decimalSeparator: ',', quoteStyle: 'necessary' })));
    const lines = res.body.toString('utf8').split('\r\n');
    expect(lines[0]).toBe('id;name;price;active;meta;big');
    expect(lines[1]).toBe('1;plain;1,5;true;"{""a"":[1,{""b"":""x""}]}";9007199254740993');
    expect(lines[2]).toBe('2;Zürich — 東京 🚀;-0,25;false;[];-42');
    expect(lines[3]).toBe('3;"comma, semi; tab\there";1e+21;;"{""quote"":""say \\""hi\\""""}";');
    expect(lines[6]).toBe('6;;12345,678;false;"{""nested"":{""deep"":[null,true,2.5]}}";12');
  });

  it('honours tab with decimal slash and quotes every value with "always"', async () => {
    const res = await t.request(`/results/${MIXED_KEY}`, dataAuth(csvToken({ columnSeparator: '\t', decimalSeparator: '/', quoteStyle: 'always' })));
    const lines = res.body.toString('utf8').split('\r\n');
    expect(lines[0]).toBe('"id"\t"name"\t"price"\t"active"\t"meta"\t"big"');
    expect(lines[1]).toBe('"1"\t"plain"\t"1/5"\t"true"\t"{""a"":[1,{""b"":""x""}]}"\t"9007199254740993"');
    expect(lines[5]).toBe('\t\t\t\t\t');
    expect(lines[6]).toBe('"6"\t""\t"12345/678"\t"false"\t"{""nested"":{""deep"":[null,true,2.5]}}"\t"12"');
  });

  it('quotes a value holding a comma when the decimal separator is a comma', async () => {
    const res = await t.request(`/results/${MIXED_KEY}`, dataAuth(csvToken({ columnSeparator: ',', decimalSeparator: ',', quoteStyle: 'necessary' })));
    expect(res.body.toString('utf8').split('\r\n')[1]).toBe('1,plain,"1,5",true,"{""a"":[1,{""b"":""x""}]}",9007199254740993');
  });

  it('is chosen with ?format=csv on a json token, and gzip-compressed when accepted', async () => {
    const res = await t.request(`/results/${BIG_KEY}?format=csv`, { ...dataAuth(t.token(BIG_KEY)), ...GZIP });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    const lines = gunzipSync(res.body).toString('utf8').split('\r\n');
    expect(lines).toHaveLength(BIG_ROW_COUNT + 2);
    expect(lines[0]).toBe('n,label,half,flag,doc');
    expect(lines[1]).toBe('0,row 0 ünïcødé ,0,,"{""k"":0,""arr"":[0,""v""]}"');
    expect(lines[BIG_ROW_COUNT]).toBe(
      `${BIG_ROW_COUNT - 1},row ${BIG_ROW_COUNT - 1} ünïcødé ${'x'.repeat((BIG_ROW_COUNT - 1) % 23)},${(BIG_ROW_COUNT - 1) / 2},false,"{""k"":${BIG_ROW_COUNT - 1},""arr"":[${BIG_ROW_COUNT - 1},""v""]}"`,
    );
  });

  it('gives json back on a csv token with ?format=json', async () => {
    const res = await t.request(`/results/${MIXED_KEY}?format=json`, dataAuth(csvToken()));
    expect(res.json.rows).toEqual(MIXED_ROWS);
  });
});

describe('NDJSON', () => {
  it('writes one object per row keyed by field name', async () => {
    const res = await t.request(`/results/${MIXED_KEY}?format=ndjson`, dataAuth(t.token(MIXED_KEY)));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const text = res.body.toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual(MIXED_ROWS.map((r) => Object.fromEntries(MIXED_COLUMNS.map((c, i) => [c.name, r[i]]))));
  });

  it('keeps duplicate column names apart and covers every chunk', async () => {
    const key = 'org1/sql_query/dupes0005';
    await t.storeRows({
      dataKey: key,
      columns: [
        { name: 'a', dbType: 'int4', dataType: 'Integer' },
        { name: 'a', dbType: 'int4', dataType: 'Integer' },
      ],
      rows: [[1, 2]],
    });
    const res = await t.request(`/results/${key}?format=ndjson`, dataAuth(t.token(key)));
    expect(JSON.parse(res.body.toString('utf8'))).toEqual({ a: 1, a_1: 2 });

    const all = await t.request(`/results/${BIG_KEY}?format=ndjson`, { ...dataAuth(t.token(BIG_KEY)), ...GZIP });
    const lines = gunzipSync(all.body).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(BIG_ROW_COUNT);
    expect(JSON.parse(lines[12345]!)).toEqual({
      n: 12345,
      label: bigRow(12345)[1],
      half: 12345 / 2,
      flag: bigRow(12345)[3],
      doc: '{"k":12345,"arr":[12345,"v"]}',
    });
  });
});

describe('row paging', () => {
  let boundaries: number[];
  beforeAll(async () => {
    boundaries = (await t.store.chunkIndex(big.executionId)).map((c) => c.firstRow);
    expect(boundaries.length).toBeGreaterThanOrEqual(3);
  });

  const page = async (query: string, headers: Record<string, string> = IDENTITY) => {
    const res = await t.request(`/results/${BIG_KEY}?${query}`, { ...dataAuth(t.token(BIG_KEY)), ...headers });
    expect(res.status).toBe(200);
    return JSON.parse(decoded(res).toString('utf8'));
  };

  it('selects rows at chunk boundaries, inside chunks and across chunks, gzip or not', async () => {
    const b1 = boundaries[1]!;
    const b2 = boundaries[2]!;
    const cases: Array<[number, number]> = [
      [0, 10],
      [b1, 5],
      [b1 - 3, 6],
      [b1, b2 - b1],
      [b1 + 7, b2 - b1 + 100],
      [5, BIG_ROW_COUNT - 10],
      [BIG_ROW_COUNT - 4, 100],
      [b2 - 1, 1],
    ];
    for (const [offset, limit] of cases) {
      for (const headers of [IDENTITY, GZIP]) {
        const body = await page(`offset=${offset}&limit=${limit}`, headers);
        expect(body.offset).toBe(offset);
        expect(body.limit).toBe(limit);
        expect(body.sql_rows).toBe(BIG_ROW_COUNT);
        expect(body.fields).toEqual(big.fields);
        expect(body.rows).toEqual(BIG_ROWS.slice(offset, offset + limit));
      }
    }
  });

  it('handles offset only, limit only, limit 0 and an offset past the end', async () => {
    const b1 = boundaries[1]!;
    expect((await page(`offset=${b1}`)).rows).toEqual(BIG_ROWS.slice(b1));
    const first = await page('limit=3', GZIP);
    expect(first).toMatchObject({ offset: 0, limit: 3, rows: BIG_ROWS.slice(0, 3) });
    expect((await page('limit=0')).rows).toEqual([]);
    expect((await page(`offset=${BIG_ROW_COUNT}`, GZIP)).rows).toEqual([]);
    expect((await page('offset=999999999999&limit=5')).rows).toEqual([]);
  });

  it('passes whole middle chunks through untouched when gzip is accepted', async () => {
    const index = await t.store.chunkIndex(big.executionId);
    const res = await t.request(`/results/${BIG_KEY}?offset=5&limit=${index[2]!.firstRow + 5}`, { ...dataAuth(t.token(BIG_KEY)), ...GZIP });
    const [middle] = await (async () => {
      const out = [];
      for await (const c of t.store.readChunks(big.executionId, 1, 1)) out.push(c);
      return out;
    })();
    expect(res.body.indexOf(spliceableRun(middle!.bytes)!.deflate)).toBeGreaterThan(0);
    expect(JSON.parse(gunzipSync(res.body).toString('utf8')).rows).toEqual(BIG_ROWS.slice(5, index[2]!.firstRow + 10));
  });

  it('pages csv and ndjson too', async () => {
    const b1 = boundaries[1]!;
    const csv = await t.request(`/results/${BIG_KEY}?format=csv&offset=${b1 - 1}&limit=2`, dataAuth(t.token(BIG_KEY)));
    const lines = csv.body.toString('utf8').split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('n,label,half,flag,doc');
    expect(lines[1]!.startsWith(`${b1 - 1},`)).toBe(true);
    expect(lines[2]!.startsWith(`${b1},`)).toBe(true);
    const nd = await t.request(`/results/${BIG_KEY}?format=ndjson&offset=7&limit=2`, dataAuth(t.token(BIG_KEY)));
    expect(
      nd.body
        .toString('utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).n),
    ).toEqual([7, 8]);
  });

  it.each([
    ['offset=-1', 'offset'],
    ['limit=abc', 'limit'],
    ['offset=1.5', 'offset'],
    ['limit=1e3', 'limit'],
    ['offset=1&offset=2', 'offset'],
    ['format=xml', 'format'],
    ['format=', 'format'],
    ['page=2', 'page'],
    ['include=x', 'include'],
  ])('rejects %s with 400', async (query, parameter) => {
    const res = await t.request(`/results/${BIG_KEY}?${query}`, dataAuth(t.token(BIG_KEY)));
    expectJsonApiError(res, 400);
    expect(res.json.errors[0].source).toEqual({ parameter });
  });
});

describe('authorization', () => {
  it.each([
    ['no header', undefined],
    ['wrong scheme', 'Api sl_abc'],
    ['bearer', 'Bearer abc'],
    ['empty token', 'Data '],
    ['garbage', 'Data not-a-jwt'],
  ])('answers 401 for %s', async (_label, header) => {
    const res = await t.request(`/results/${MIXED_KEY}`, header === undefined ? {} : { Authorization: header });
    expectJsonApiError(res, 401);
    expect(res.headers['www-authenticate']).toBe('Data');
  });

  it('answers 401 for a forged token and for an expired one', async () => {
    const forged = new DataTokens('another-secret-another-secret-another-secret', 300).sign({
      organizationId: t.organizationId,
      dataKey: MIXED_KEY,
      format: 'json',
      kind: 'result',
    });
    const res = await t.request(`/results/${MIXED_KEY}`, dataAuth(forged));
    expectJsonApiError(res, 401);
    expect(res.json.errors[0].detail).toMatch(/Invalid data access token/);

    const expired = new DataTokens(TOKEN_SECRET, -5).sign({ organizationId: t.organizationId, dataKey: MIXED_KEY, format: 'json', kind: 'result' });
    const late = await t.request(`/results/${MIXED_KEY}`, dataAuth(expired));
    expectJsonApiError(late, 401);
    expect(late.json.errors[0].detail).toMatch(/expired/);

    // a token with its signature cut off or altered
    const good = t.token(MIXED_KEY);
    const tampered = `${good.slice(0, -4)}${good.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expectJsonApiError(await t.request(`/results/${MIXED_KEY}`, dataAuth(tampered)), 401);
  });

  it('refuses a correctly signed token that lacks exp, iat or its kind (401)', async () => {
    const claims = { org: t.organizationId, dk: MIXED_KEY, fmt: 'json', kind: 'result' };
    const sign = (payload: Record<string, unknown>, options: jwt.SignOptions = {}) =>
      jwt.sign(payload, TOKEN_SECRET, { algorithm: 'HS256', issuer: 'sightline-api', audience: 'sightline-data', ...options });
    // the complete token works: what follows fails only for the missing claim
    expect((await t.request(`/results/${MIXED_KEY}`, dataAuth(sign(claims, { expiresIn: 60 })))).status).toBe(200);
    for (const [label, token] of [
      ['no exp', sign(claims)],
      ['no iat', sign({ ...claims, exp: Math.floor(Date.now() / 1000) + 60 }, { noTimestamp: true })],
      ['no kind', sign({ org: t.organizationId, dk: MIXED_KEY, fmt: 'json' }, { expiresIn: 60 })],
      ['unknown kind', sign({ ...claims, kind: 'anything' }, { expiresIn: 60 })],
      ['no issuer', jwt.sign({ ...claims }, TOKEN_SECRET, { algorithm: 'HS256', audience: 'sightline-data', expiresIn: 60 })],
    ] as Array<[string, string]>) {
      const res = await t.request(`/results/${MIXED_KEY}`, dataAuth(token));
      expect([label, res.status]).toEqual([label, 401]);
      expectJsonApiError(res, 401);
    }
  });

  it('accepts result tokens only on /results and schema tokens only on /schemas (403 otherwise)', async () => {
    const schemaToken = t.token(SCHEMA_KEY, { kind: 'schema' });
    expect((await t.request(`/schemas/${SCHEMA_KEY}`, dataAuth(schemaToken))).status).toBe(200);
    const onResults = await t.request(`/results/${SCHEMA_KEY}`, dataAuth(schemaToken));
    expectJsonApiError(onResults, 403);
    expect(onResults.json.errors[0].detail).toMatch(/schema/);
    const resultToken = t.token(MIXED_KEY);
    expect((await t.request(`/results/${MIXED_KEY}`, dataAuth(resultToken))).status).toBe(200);
    expectJsonApiError(await t.request(`/schemas/${MIXED_KEY}`, dataAuth(resultToken)), 403);
    // a result token minted for a schema key does not open it on /schemas either
    expectJsonApiError(await t.request(`/schemas/${SCHEMA_KEY}`, dataAuth(t.token(SCHEMA_KEY))), 403);
  });

  it('answers 403 for a token of another data key', async () => {
    const res = await t.request(`/results/${MIXED_KEY}`, dataAuth(t.token(BIG_KEY)));
    expectJsonApiError(res, 403);
    const schema = await t.request(`/schemas/${SCHEMA_KEY}`, dataAuth(t.token(MIXED_KEY, { kind: 'schema' })));
    expectJsonApiError(schema, 403);
  });

  it('answers 404 for another organization, an unknown key and an unfinished result', async () => {
    const other = t.tokens.sign({ organizationId: t.otherOrganizationId, dataKey: MIXED_KEY, format: 'json', kind: 'result' });
    const res = await t.request(`/results/${MIXED_KEY}`, dataAuth(other));
    expectJsonApiError(res, 404);
    const unknown = await t.request('/results/org1/sql_query/nothing', dataAuth(t.token('org1/sql_query/nothing')));
    expectJsonApiError(unknown, 404);
    expect(unknown.json.errors[0].detail).toBe(res.json.errors[0].detail);
  });

  it('serves another organization only its own result of the same key', async () => {
    const key = 'shared/sql_query/samekey';
    await t.storeRows({ dataKey: key, columns: MIXED_COLUMNS.slice(0, 1), rows: [['mine']] });
    await t.storeRows({ dataKey: key, columns: MIXED_COLUMNS.slice(0, 1), rows: [['theirs']], organizationId: t.otherOrganizationId });
    const mine = await t.request(`/results/${key}`, dataAuth(t.token(key)));
    const theirs = await t.request(
      `/results/${key}`,
      dataAuth(t.tokens.sign({ organizationId: t.otherOrganizationId, dataKey: key, format: 'json', kind: 'result' })),
    );
    expect(mine.json.rows).toEqual([['mine']]);
    expect(theirs.json.rows).toEqual([['theirs']]);
  });
});

describe('hostile paths', () => {
  it('takes the key from the raw path: %2F is not a slash', async () => {
    const token = t.token(MIXED_KEY);
    const res = await t.request(`/results/${MIXED_KEY.replaceAll('/', '%2F')}`, dataAuth(token));
    expectJsonApiError(res, 404);
    const mixedCase = await t.request(`/results/org1%2fsql_query/mixed0001`, dataAuth(token));
    expectJsonApiError(mixedCase, 404);
  });

  it.each([
    '/results/',
    '/results//org1/x',
    '/results/org1/../sql_query/mixed0001',
    '/results/org1/./x',
    '/results/org1/%00',
    '/results/org1/%2e%2e/x',
    `/results/${'a'.repeat(513)}`,
    '/results/org1/"quoted"',
    '/results/org1/%C3%A9',
    '/results/org1/a b'.replace(' ', '%20'),
    '/results/org1/x;y=1/..',
    '/schemas/',
    '/schemas/%2Fetc%2Fpasswd',
  ])('answers 404 (never 500) for %s', async (path) => {
    const res = await t.request(path, dataAuth(t.token(MIXED_KEY)));
    expectJsonApiError(res, 404);
  });

  it('answers 405 for other methods and 404 for unknown routes', async () => {
    const post = await t.request(`/results/${MIXED_KEY}`, dataAuth(t.token(MIXED_KEY)), 'POST');
    expectJsonApiError(post, 405);
    expect(post.headers.allow).toContain('GET');
    expectJsonApiError(await t.request('/nope', {}), 404);
  });
});

describe('GET /schemas/<dataKey>', () => {
  it('serves the stored schema document, gzip or not', async () => {
    const res = await t.request(`/schemas/${SCHEMA_KEY}`, { ...dataAuth(t.token(SCHEMA_KEY, { kind: 'schema' })), ...IDENTITY });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json).toEqual(SCHEMA_DOCUMENT);
    const gz = await t.request(`/schemas/${SCHEMA_KEY}`, { ...dataAuth(t.token(SCHEMA_KEY, { kind: 'schema' })), ...GZIP });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.body).toString('utf8'))).toEqual(SCHEMA_DOCUMENT);
  });

  it('answers 204 while the schema of a data key is not stored yet (a refresh is under way)', async () => {
    const key = 'org1/schemas/notyet0001';
    const res = await t.request(`/schemas/${key}`, dataAuth(t.token(key, { kind: 'schema' })));
    expect(res.status).toBe(204);
    expect(res.body.length).toBe(0);
    const single = `${key}/${Buffer.from('public').toString('hex')}`;
    expect((await t.request(`/schemas/${single}`, dataAuth(t.token(single, { kind: 'schema' })))).status).toBe(204);
    // once stored, a schema name that is not in it is a 404
    const stored = `org1/schemas/stored0001`;
    await t.storeDocument({ dataKey: stored, document: SCHEMA_DOCUMENT });
    const missing = `${stored}/${Buffer.from('nope').toString('hex')}`;
    expectJsonApiError(await t.request(`/schemas/${missing}`, dataAuth(t.token(missing, { kind: 'schema' }))), 404);
    const present = `${stored}/${Buffer.from('public').toString('hex')}`;
    expect((await t.request(`/schemas/${present}`, dataAuth(t.token(present, { kind: 'schema' })))).json).toEqual(SCHEMA_DOCUMENT.schemas[0]);
  });

  it('refuses query parameters and a row result', async () => {
    expectJsonApiError(await t.request(`/schemas/${MIXED_KEY}`, dataAuth(t.token(MIXED_KEY, { kind: 'schema' }))), 404);
    expectJsonApiError(await t.request(`/schemas/${SCHEMA_KEY}?name=public`, dataAuth(t.token(SCHEMA_KEY, { kind: 'schema' }))), 400);
  });

  it('checks the token like /results', async () => {
    expectJsonApiError(await t.request(`/schemas/${SCHEMA_KEY}`, {}), 401);
    // another organization's token reads the key as unknown: nothing stored for it (yet)
    const other = t.tokens.sign({ organizationId: t.otherOrganizationId, dataKey: SCHEMA_KEY, format: 'json', kind: 'schema' });
    const foreign = await t.request(`/schemas/${SCHEMA_KEY}`, dataAuth(other));
    expect([foreign.status, foreign.body.length]).toEqual([204, 0]);
  });
});
