// The data time zone on a MariaDB without time-zone tables (as every new server is): a named zone
// is refused with a clear error saying how to load them, never replaced by a fixed offset (which
// is wrong across daylight saving time). Runs on a private server; the shared one is not touched.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueryError, createDriver, type ConnectionSettings } from '../../src/drivers/index.js';
import { startPrivateMariaDb, type PrivateMariaDb } from './private-mariadb.js';
import { allRows, rejectionOf } from './support.js';

let server: PrivateMariaDb;

beforeAll(async () => {
  server = await startPrivateMariaDb();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

const settings = (dataTimeZone: string): ConnectionSettings => ({
  databaseType: 'mariadb',
  host: '127.0.0.1',
  port: server.port,
  username: 'root',
  password: null,
  database: null,
  requireSsl: false,
  verifySsl: false,
  dataTimeZone,
  connectTimeoutMs: 10_000,
});

const sessionZone = async (zone: string) => {
  const driver = createDriver(settings(zone));
  try {
    return (await allRows(await driver.query('SELECT @@session.time_zone', [], { timeoutMs: 10_000 })))[0]![0];
  } finally {
    await driver.close();
  }
};

describe('a MariaDB without time-zone tables', () => {
  it('has empty time-zone tables (the situation under test)', async () => {
    const c = await server.client();
    const [rows] = await c.query('SELECT COUNT(*) AS n FROM mysql.time_zone_name');
    await c.end();
    expect(Number((rows as Array<{ n: number }>)[0]!.n)).toBe(0);
  });

  it('refuses a named data time zone with an error that says how to load the tables', async () => {
    const driver = createDriver(settings('Asia/Tokyo'));
    // one attempt at a time: a second promise started early rejects before anything awaits it
    for (const attempt of [() => driver.query('SELECT NOW()', [], { timeoutMs: 10_000 }), () => driver.testConnection()]) {
      const err = await rejectionOf(attempt());
      expect(err).toBeInstanceOf(QueryError);
      expect(err.message).toContain('Asia/Tokyo');
      expect(err.message).toContain('mysql_tzinfo_to_sql /usr/share/zoneinfo | mysql -u root mysql');
    }
    await driver.close();
  });

  it('still runs UTC (a zone without daylight saving time has an exact fixed offset)', async () => {
    expect(await sessionZone('UTC')).toBe('+00:00');
  });

  it('uses the named zone once the tables are loaded (with the command .ci/run runs)', async () => {
    await server.loadTimeZoneTables();
    expect(await sessionZone('Asia/Tokyo')).toBe('Asia/Tokyo');
    expect(await sessionZone('UTC')).toBe('UTC');
    // an unknown name is the server's own error, not the tables hint
    const err = await rejectionOf(createDriver(settings('Mars/Olympus')).testConnection());
    expect(err.message).toMatch(/Mars\/Olympus/);
    expect(err.message).not.toContain('mysql_tzinfo_to_sql');
  }, 120_000);
});
