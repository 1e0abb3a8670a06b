import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ValidationError } from '@sightline/domain';
import { SAMPLE_ROW_COUNTS, provisionSampleDatabase, type SampleDatabaseResult } from '../src/sample-data/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';

const adminUrl = process.env.SIGHTLINE_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const suffix = randomBytes(4).toString('hex');
const first = { database: `sl_sample_a_${suffix}`, readerRole: `sl_reader_a_${suffix}`, readerPassword: 'reader-pw-1' };
const second = { database: `sl_sample_b_${suffix}`, readerRole: `sl_reader_b_${suffix}`, readerPassword: 'reader-pw-2' };
const otherDb = `sl_other_${suffix}`;
const weakRole = `sl_weak_${suffix}`;
const creatorRole = `sl_creator_${suffix}`;
const third = { database: `sl_sample_c_${suffix}`, readerRole: `sl_reader_d_${suffix}`, readerPassword: 'reader-pw-3' };

let firstResult: SampleDatabaseResult;
let main: TestDatabase;

function urlFor(database: string, user?: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  if (user) {
    url.username = user;
    url.password = '';
  }
  return url.toString();
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function sqlStateOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'no error';
}

/** Aggregates that change if any generated value changes. */
async function fingerprint(database: string): Promise<Record<string, unknown>> {
  return withClient(urlFor(database), async (c) => {
    const { rows } = await c.query(`SELECT
        (SELECT count(*) FROM products)::int AS products,
        (SELECT count(*) FROM customers)::int AS customers,
        (SELECT count(*) FROM orders)::int AS orders,
        (SELECT count(*) FROM order_items)::int AS order_items,
        (SELECT count(*) FROM events)::int AS events,
        (SELECT sum(total_amount)::text FROM orders) AS revenue,
        (SELECT sum(extract(epoch FROM ordered_at))::text FROM orders) AS order_epochs,
        (SELECT md5(string_agg(first_name || last_name || city || coalesce(segment, '∅') || coalesce(notes, '∅'), ',' ORDER BY id)) FROM customers) AS customers_md5,
        (SELECT md5(string_agg(properties::text || coalesce(customer_id::text, '∅'), ',' ORDER BY id)) FROM events) AS events_md5,
        (SELECT md5(string_agg(name || price, ',' ORDER BY id)) FROM products) AS products_md5`);
    return rows[0] as Record<string, unknown>;
  });
}

beforeAll(async () => {
  main = await createTestDatabase();
  await withClient(adminUrl, async (c) => {
    await c.query(`CREATE ROLE ${weakRole} LOGIN`);
    await c.query(`CREATE ROLE ${creatorRole} LOGIN CREATEDB CREATEROLE`);
    await c.query(`CREATE DATABASE ${otherDb}`);
  });
  await withClient(urlFor(otherDb), (c) => c.query('CREATE TABLE something_else (id int)'));
  firstResult = await provisionSampleDatabase(adminUrl, { ...first, log: (msg) => console.log(msg) });
}, 120_000);

afterAll(async () => {
  await main.drop();
  await withClient(adminUrl, async (c) => {
    for (const db of [first.database, second.database, third.database, otherDb]) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    for (const role of [first.readerRole, second.readerRole, third.readerRole, weakRole, creatorRole]) await c.query(`DROP ROLE IF EXISTS ${role}`);
  });
});

describe('provisionSampleDatabase', () => {
  it('creates the database with the expected row counts, NULLs and non-ASCII text', async () => {
    expect(firstResult).toMatchObject({ skipped: false, created: true });
    if (firstResult.skipped) throw new Error('unexpected skip');
    const url = new URL(adminUrl);
    expect(firstResult.connection).toEqual({
      host: url.hostname,
      port: Number(url.port || 5432),
      database: first.database,
      username: first.readerRole,
      password: 'reader-pw-1',
    });
    // how long it takes is printed, not asserted (a speed goal, not a property)
    console.log(`sample data: provisioned in ${firstResult.durationMs} ms`);
    const fp = await fingerprint(first.database);
    expect(fp).toMatchObject({
      products: SAMPLE_ROW_COUNTS.products,
      customers: SAMPLE_ROW_COUNTS.customers,
      orders: SAMPLE_ROW_COUNTS.orders,
      events: SAMPLE_ROW_COUNTS.events,
    });
    expect(fp.order_items as number).toBeGreaterThan(SAMPLE_ROW_COUNTS.orders * 2);
    await withClient(urlFor(first.database), async (c) => {
      const { rows } = await c.query(`SELECT
          (SELECT count(*) FROM customers WHERE segment IS NULL)::int AS null_segments,
          (SELECT count(*) FROM events WHERE customer_id IS NULL)::int AS anonymous_events,
          (SELECT count(*) FROM customers WHERE city IN ('Zürich', 'São Paulo', '東京'))::int AS non_ascii_cities,
          (SELECT count(*) FROM customers WHERE notes ~ '[\\U0001F300-\\U0001FAFF]')::int AS emoji_notes,
          (SELECT min(ordered_at) FROM orders) AS first_order, (SELECT max(ordered_at) FROM orders) AS last_order,
          (SELECT count(*) FROM orders o WHERE total_amount <> (SELECT round(sum(quantity * unit_price * (1 - discount)), 2) FROM order_items i WHERE i.order_id = o.id) + shipping_cost)::int AS inconsistent_totals`);
      const r = rows[0];
      expect(r.null_segments).toBeGreaterThan(0);
      expect(r.anonymous_events).toBeGreaterThan(0);
      expect(r.non_ascii_cities).toBeGreaterThan(1000);
      expect(r.emoji_notes).toBeGreaterThan(100);
      expect((r.first_order as Date).toISOString() >= '2023-11-01').toBe(true);
      expect((r.last_order as Date).toISOString() < '2026-11-01').toBe(true);
      expect(r.inconsistent_totals).toBe(0);
    });
  });

  it('generates identical data every time (and concurrent calls generate it once)', async () => {
    // the callers' URLs name different databases (as two processes of different deployments or test
    // runs on one server do): they still serialize
    const [a, b] = await Promise.all([provisionSampleDatabase(adminUrl, second), provisionSampleDatabase(main.url, second)]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    const fp1 = await fingerprint(first.database);
    const fp2 = await fingerprint(second.database);
    expect(fp2).toEqual(fp1);
    // Pinned: a change here means the demo data changed (then bump SAMPLE_DATA_VERSION).
    expect(fp1).toEqual({
      products: 300,
      customers: 20000,
      orders: 90000,
      order_items: 222546,
      events: 150000,
      revenue: '56280241.09',
      order_epochs: '158566682736202.707959',
      customers_md5: '0798f0e1adfc65f70e11d42349f8399a',
      events_md5: '976541ea6b4b97c6d1169c19f660880b',
      products_md5: 'b10c836e0f5876cda83d7a9626cbbac8',
    });
  }, 120_000);

  it('is idempotent: a second call keeps the data and re-sets the password', async () => {
    const passwordOf = () =>
      withClient(
        adminUrl,
        async (c) => (await c.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [first.readerRole])).rows[0]!.rolpassword,
      );
    const before = await passwordOf();
    // the tables and rows as they are: a regeneration would give them new identities
    const identity = () =>
      withClient(
        urlFor(first.database),
        async (c) =>
          (
            await c.query(
              "SELECT (SELECT oid FROM pg_class WHERE relname = 'orders') AS tbl, (SELECT xmin::text FROM orders ORDER BY id LIMIT 1) AS row_version",
            )
          ).rows[0],
      );
    const identityBefore = await identity();
    const again = await provisionSampleDatabase(adminUrl, { ...first, readerPassword: 'reader-pw-changed' });
    expect(again).toMatchObject({ skipped: false, created: false, connection: { password: 'reader-pw-changed' } });
    // No regeneration: the same table and the same row versions.
    expect(await identity()).toEqual(identityBefore);
    expect(await passwordOf()).not.toBe(before);
    expect(await fingerprint(first.database)).toEqual(await fingerprint(second.database));
  });

  it('lets the reader query the sample tables and nothing else', async () => {
    await withClient(urlFor(first.database, first.readerRole), async (c) => {
      const { rows } = await c.query(`SELECT status, count(*)::int AS n FROM orders GROUP BY status ORDER BY n DESC`);
      expect(rows[0]).toMatchObject({ status: 'completed' });
      expect((await c.query('SELECT count(*)::int AS n FROM daily_revenue')).rows[0].n).toBeGreaterThan(300);
      expect(
        await sqlStateOf(c.query('INSERT INTO products (id, name, category, price, launched_on, is_active) VALUES (999, $1, $1, 1, now(), true)', ['x'])),
      ).toBe('25006');
      await c.query('SET default_transaction_read_only = off');
      expect(await sqlStateOf(c.query('CREATE TABLE mine (id int)'))).toBe('42501');
      expect(await sqlStateOf(c.query('CREATE TEMP TABLE mine (id int)'))).toBe('42501');
      expect(await sqlStateOf(c.query(`UPDATE orders SET status = 'x' WHERE id = 1`))).toBe('42501');
      expect(await sqlStateOf(c.query('DELETE FROM events'))).toBe('42501');
      expect(await sqlStateOf(c.query('CREATE SCHEMA mine'))).toBe('42501');
    });
  });

  it('keeps the reader out of Sightline’s own tables and other databases', async () => {
    await withClient(urlFor(main.name, first.readerRole), async (c) => {
      expect(await sqlStateOf(c.query('SELECT * FROM api_keys'))).toBe('42501');
      expect(await sqlStateOf(c.query('SELECT * FROM organizations'))).toBe('42501');
    });
    await withClient(urlFor(otherDb, first.readerRole), async (c) => {
      expect(await sqlStateOf(c.query('SELECT * FROM something_else'))).toBe('42501');
    });
    // Other roles cannot connect to the sample database at all.
    expect(await sqlStateOf(withClient(urlFor(first.database, weakRole), (c) => c.query('SELECT 1')))).toBe('42501');
  });

  it('skips with a reason when the connecting user lacks CREATEDB/CREATEROLE', async () => {
    const result = await provisionSampleDatabase(urlFor('postgres', weakRole), {
      database: `sl_never_${suffix}`,
      readerRole: `sl_never_${suffix}`,
      readerPassword: 'x',
    });
    expect(result.skipped).toBe(true);
    if (!result.skipped) throw new Error('expected a skip');
    expect(result.reason).toMatch(/^skipped: .*CREATEDB and CREATEROLE/);
    await withClient(adminUrl, async (c) => {
      expect((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [`sl_never_${suffix}`])).rows).toHaveLength(0);
    });
  });

  it('works for a non-superuser with CREATEDB and CREATEROLE', async () => {
    const result = await provisionSampleDatabase(urlFor('postgres', creatorRole), third);
    expect(result).toMatchObject({ skipped: false, created: true });
    await withClient(urlFor(third.database, third.readerRole), async (c) => {
      expect((await c.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(SAMPLE_ROW_COUNTS.customers);
      await c.query('SET default_transaction_read_only = off');
      expect(await sqlStateOf(c.query('CREATE TABLE mine (id int)'))).toBe('42501');
    });
    await withClient(urlFor(main.name, third.readerRole), async (c) => {
      expect(await sqlStateOf(c.query('SELECT * FROM api_keys'))).toBe('42501');
    });
  }, 120_000);

  it('never touches a database or role that is not its own', async () => {
    const foreign = await provisionSampleDatabase(adminUrl, { database: otherDb, readerRole: `sl_reader_c_${suffix}`, readerPassword: 'x' });
    expect(foreign).toMatchObject({ skipped: true, reason: expect.stringContaining('not Sightline sample data') });
    await withClient(urlFor(otherDb), async (c) => {
      expect((await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows[0].n).toBe(1);
      // Its privileges are untouched and no reader role was created.
      expect((await c.query(`SELECT has_database_privilege('public', current_database(), 'CONNECT') AS open`)).rows[0].open).toBe(true);
    });
    await withClient(adminUrl, async (c) => {
      expect((await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`sl_reader_c_${suffix}`])).rows).toHaveLength(0);
    });
    const privileged = await provisionSampleDatabase(adminUrl, { database: first.database, readerRole: 'postgres', readerPassword: 'x' });
    expect(privileged.skipped).toBe(true);
  });

  it('rejects names that are not plain identifiers', async () => {
    await expect(
      provisionSampleDatabase(adminUrl, { database: 'x"; DROP DATABASE postgres; --', readerRole: 'r', readerPassword: 'x' }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(provisionSampleDatabase(adminUrl, { database: 'ok', readerRole: 'Bad-Role', readerPassword: 'x' })).rejects.toBeInstanceOf(ValidationError);
    await expect(provisionSampleDatabase(adminUrl, { database: 'ok', readerRole: 'ok_role', readerPassword: '' })).rejects.toBeInstanceOf(ValidationError);
  });
});
