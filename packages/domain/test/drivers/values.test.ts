import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../src/errors.js';
import { DATABASE_TYPES, SUPPORTED_DATABASE_TYPES, createDriver, dialectOf } from '../../src/drivers/index.js';
import { bindMysqlPlaceholders, formatDateInZone, mysqlConverter, quoteMysqlString } from '../../src/drivers/mysql-values.js';
import { postgresClientTypes } from '../../src/drivers/postgres-types.js';
import { bigIntToJson, decimalToJson, parsePgArray, redactSecret, timestamptzToIso } from '../../src/drivers/values.js';

const settings = { host: 'h', port: 1, username: 'u', password: 'p', database: 'd', requireSsl: false, verifySsl: false, dataTimeZone: 'UTC' };

describe('createDriver', () => {
  it('covers every contract type and supports postgres, redshift, mysql, mariadb', () => {
    expect(DATABASE_TYPES).toHaveLength(14);
    expect([...SUPPORTED_DATABASE_TYPES]).toEqual(['postgres', 'redshift', 'mysql', 'mariadb']);
    expect(createDriver({ ...settings, databaseType: 'redshift' }).dialect).toBe('postgres');
    expect(createDriver({ ...settings, databaseType: 'mariadb' }).dialect).toBe('mysql');
    expect(dialectOf('mysql')).toBe('mysql');
    expect(dialectOf('oracle')).toBeUndefined();
  });

  it('rejects unsupported types with a 422 naming the type', () => {
    for (const type of DATABASE_TYPES.filter((t) => !SUPPORTED_DATABASE_TYPES.includes(t))) {
      let caught: unknown;
      try {
        createDriver({ ...settings, databaseType: type });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ValidationError);
      expect((caught as ValidationError).status).toBe(422);
      expect((caught as ValidationError).message).toContain(`'${type}' is not supported by this build`);
    }
  });
});

describe('connection parameters', () => {
  it('never falls back to the process environment (PGHOST, PGUSER, PGPASSWORD, ~/.pgpass)', async () => {
    const saved = { ...process.env };
    process.env.PGPASSWORD = 'sightline-own-secret';
    process.env.PGHOST = '127.0.0.1';
    try {
      const driver = createDriver({ ...settings, databaseType: 'postgres', password: null, database: null });
      const config = (driver as unknown as { clientConfig(): { password: () => string; database: string } }).clientConfig();
      expect(config.password()).toBe('');
      const ssl = (overrides: { requireSsl: boolean; verifySsl: boolean }) =>
        (createDriver({ ...settings, ...overrides, databaseType: 'redshift' }) as unknown as { clientConfig(): { ssl: unknown } }).clientConfig().ssl;
      expect(ssl({ requireSsl: true, verifySsl: false })).toEqual({ rejectUnauthorized: false });
      expect(ssl({ requireSsl: true, verifySsl: true })).toEqual({ rejectUnauthorized: true });
      expect(ssl({ requireSsl: false, verifySsl: true })).toBe(false);
      expect(config.database).toBe('u');
      await expect(createDriver({ ...settings, databaseType: 'postgres', host: null }).testConnection()).rejects.toMatchObject({
        kind: 'connection_error',
        message: 'The datasource has no host',
      });
      await expect(createDriver({ ...settings, databaseType: 'postgres', username: null }).testConnection()).rejects.toMatchObject({
        kind: 'connection_error',
      });
      await expect(createDriver({ ...settings, databaseType: 'mysql', host: null }).testConnection()).rejects.toMatchObject({ kind: 'connection_error' });
    } finally {
      process.env = saved;
    }
  });
});

describe('value conversion', () => {
  it('keeps decimals as numbers only when exact', () => {
    expect(decimalToJson('12.50')).toBe(12.5);
    expect(decimalToJson('-0.000')).toBe(-0);
    expect(decimalToJson('9007199254740991')).toBe(9007199254740991);
    expect(decimalToJson('9007199254740993')).toBe('9007199254740993');
    expect(decimalToJson('0.12345678901234567890')).toBe('0.12345678901234567890');
    expect(decimalToJson('NaN')).toBe('NaN');
    expect(bigIntToJson('-9223372036854775808')).toBe('-9223372036854775808');
    expect(bigIntToJson('42')).toBe(42);
  });

  it('converts timestamptz text in any session zone to UTC with Z, keeping microseconds', () => {
    expect(timestamptzToIso('2024-03-01 12:00:00.123456+01')).toBe('2024-03-01T11:00:00.123456Z');
    expect(timestamptzToIso('2024-01-01 00:30:00+05:30')).toBe('2023-12-31T19:00:00Z');
    expect(timestamptzToIso('1900-01-01 00:00:00+00:53:28')).toBe('1899-12-31T23:06:32Z');
    expect(timestamptzToIso('infinity')).toBe('infinity');
  });

  it('parses postgres array literals, nested and quoted', () => {
    expect(parsePgArray('{1,NULL,3}', Number)).toEqual([1, null, 3]);
    expect(parsePgArray('{{1,2},{3,4}}', Number)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parsePgArray('{"a,b","c\\"d","NULL",""}', (s) => s)).toEqual(['a,b', 'c"d', 'NULL', '']);
    expect(parsePgArray('[0:1]={7,8}', Number)).toEqual([7, 8]);
    expect(parsePgArray('{}', Number)).toEqual([]);
  });

  it('uses per-client parsers (bytea → base64, timestamp → ISO, unknown → text)', () => {
    expect(postgresClientTypes.getTypeParser(17)('\\x00ff')).toBe('AP8=');
    expect(postgresClientTypes.getTypeParser(1114)('2024-01-02 03:04:05.5')).toBe('2024-01-02T03:04:05.5');
    expect(postgresClientTypes.getTypeParser(1016)('{1,9223372036854775807}')).toBe('[1,"9223372036854775807"]');
    // JSON stays the database's text: no digit of a big number is lost to a double
    expect(postgresClientTypes.getTypeParser(3802)('{"n": 12345678901234567890123}')).toBe('{"n": 12345678901234567890123}');
    expect(postgresClientTypes.getTypeParser(3807)('{"{\\"n\\": 12345678901234567890123}",NULL}')).toBe('[{"n": 12345678901234567890123},null]');
    expect(postgresClientTypes.getTypeParser(99999)('x')).toBe('x');
  });

  it('keeps MySQL JSON as its text (a scalar with data_type JSON)', () => {
    const json = mysqlConverter({ name: 'doc', columnType: 245, characterSet: 63, columnLength: 0, flags: 0 });
    expect(json(Buffer.from('{"a": [1, 12345678901234567890123]}'))).toBe('{"a": [1, 12345678901234567890123]}');
  });

  it('removes credentials from messages', () => {
    expect(redactSecret('failed for p@ss/word and p%40ss%2Fword', 'p@ss/word')).toBe('failed for *** and ***');
    expect(redactSecret('nothing', null)).toBe('nothing');
  });

  it('masks only whole, delimited occurrences of a secret and leaves every other character alone', () => {
    // A one-letter password must not turn words into "une***pectedly" (that reveals the password).
    expect(redactSecret('the server closed the connection unexpectedly', 'x')).toBe('the server closed the connection unexpectedly');
    expect(redactSecret('password x rejected for user "x" (x)', 'x')).toBe('password *** rejected for user "***" (***)');
    expect(redactSecret('authentication failed: secretive secret secrets', 'secret')).toBe('authentication failed: secretive *** secrets');
    // Secrets that start or end with punctuation are delimited on that side by themselves.
    expect(redactSecret('got p@ss!, then "p@ss!"', 'p@ss!')).toBe('got ***, then "***"');
    expect(redactSecret('key !x! and a!x!b', '!x!')).toBe('key *** and a***b');
    expect(redactSecret('pw=hunter2;host=h', 'hunter2')).toBe('pw=***;host=h');
    // The password inside a connection string is masked whatever it is, and nothing else changes.
    expect(redactSecret('could not parse postgres://alice:e@db.example.com:5432/sales', 'e')).toBe(
      'could not parse postgres://alice:***@db.example.com:5432/sales',
    );
    expect(redactSecret('mysql://bob:open%20sesame@h/x failed', 'open sesame')).toBe('mysql://bob:***@h/x failed');
    expect(redactSecret('Zürich ü-secret-ü done', 'ü-secret-ü')).toBe('Zürich *** done');
  });
});

describe('mysql placeholder binding', () => {
  const ctx = { noBackslashEscapes: false, timeZone: 'Europe/Berlin' };

  it('binds values outside literals, identifiers and comments', () => {
    const sql = 'SELECT \'?\', `a?`, "b?" -- c?\n, ? /* ? */, ? # ?\n FROM t WHERE x IN (?)';
    expect(bindMysqlPlaceholders(sql, [1, "it's", ['a', null, true]], ctx)).toBe(
      "SELECT '?', `a?`, \"b?\" -- c?\n, 1 /* ? */, 'it''s' # ?\n FROM t WHERE x IN ('a', NULL, TRUE)",
    );
  });

  it('escapes backslashes unless NO_BACKSLASH_ESCAPES is on', () => {
    expect(quoteMysqlString("a\\' OR 1=1 -- ", false)).toBe("'a\\\\'' OR 1=1 -- '");
    expect(quoteMysqlString("a\\' OR 1=1 -- ", true)).toBe("'a\\'' OR 1=1 -- '");
  });

  it('formats dates as wall-clock time of the data time zone and buffers as hex', () => {
    expect(formatDateInZone(new Date('2024-07-01T10:00:00.250Z'), 'Europe/Berlin')).toBe('2024-07-01 12:00:00.250');
    expect(bindMysqlPlaceholders('SELECT ?', [Buffer.from([0, 255])], ctx)).toBe("SELECT X'00ff'");
  });

  it('rejects a placeholder/value count mismatch', () => {
    expect(() => bindMysqlPlaceholders('SELECT ?, ?', [1], ctx)).toThrow(/more placeholders/);
    expect(() => bindMysqlPlaceholders('SELECT ?', [1, 2], ctx)).toThrow(/1 placeholders but 2 values/);
  });
});
