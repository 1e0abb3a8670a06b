// Real-database helpers for the query compiler's execution tests (no jest imports: also usable from
// scripts). PostgreSQL: a scratch schema in the server's `postgres` database. MariaDB: database `test`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import mysql from 'mysql2/promise';
import pg from 'pg';

/** Random lower-case suffix for scratch object names. */
export function scratchName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A PostgreSQL client whose search_path is a fresh scratch schema; `close()` drops it. */
export interface PgScratch {
  client: pg.Client;
  schema: string;
  close(): Promise<void>;
}

/**
 * Connects to the test PostgreSQL (SIGHTLINE_TEST_ADMIN_URL from the jest global setup, else
 * 127.0.0.1:5432 user postgres), creates a scratch schema, sets the session zone to `dataZone`, and
 * returns every value as text (so assertions do not depend on node-pg's Date parsing).
 */
export async function openPgScratch(dataZone = 'UTC'): Promise<PgScratch> {
  const url = process.env.SIGHTLINE_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const client = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  const schema = scratchName('qc');
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`SET search_path TO ${schema}`);
  await client.query(`SET TIME ZONE '${dataZone}'`);
  return {
    client,
    schema,
    async close() {
      try {
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Connection options of the test MariaDB (TEST_MYSQL_HOST/PORT override 127.0.0.1:3306; user root). */
export function mariadbOptions(): { host: string; port: number; user: string; password: string; database: string } {
  return {
    host: process.env.TEST_MYSQL_HOST ?? '127.0.0.1',
    port: Number(process.env.TEST_MYSQL_PORT ?? 3306),
    user: 'root',
    password: '',
    database: 'test',
  };
}

/** Opens a MariaDB connection (date values as strings) with the session zone set to `dataZone`. */
export async function openMariadb(dataZone = 'UTC'): Promise<mysql.Connection> {
  const conn = await mysql.createConnection({ ...mariadbOptions(), dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
  await conn.query('SET time_zone = ?', [dataZone]);
  return conn;
}

async function convertTzWorks(conn: mysql.Connection): Promise<boolean> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT CONVERT_TZ('2000-01-01 00:00:00', 'UTC', 'Europe/Berlin') AS v");
  return rows[0]?.v !== null && rows[0]?.v !== undefined;
}

function pipeInto(producer: string[], consumer: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const a = spawn(producer[0]!, producer.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    const b = spawn(consumer[0]!, consumer.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    b.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    a.stdout.pipe(b.stdin);
    a.on('error', reject);
    b.on('error', reject);
    b.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${consumer[0]} exited with ${code}: ${stderr}`))));
  });
}

function findBinary(names: string[]): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    for (const n of names) if (existsSync(`${dir}/${n}`)) return `${dir}/${n}`;
  }
  return undefined;
}

/**
 * Idempotent: makes sure the MariaDB server knows named time zones (`CONVERT_TZ` with
 * 'Europe/Berlin' returns non-NULL), loading /usr/share/zoneinfo with `mariadb-tzinfo-to-sql`
 * (or `mysql_tzinfo_to_sql`) through the `mariadb`/`mysql` client when the tables are empty.
 * @returns true when named zones work afterwards
 */
export async function ensureMariadbTimeZones(): Promise<boolean> {
  const conn = await mysql.createConnection(mariadbOptions());
  try {
    if (await convertTzWorks(conn)) return true;
    const tzinfo = findBinary(['mariadb-tzinfo-to-sql', 'mysql_tzinfo_to_sql']);
    const cli = findBinary(['mariadb', 'mysql']);
    if (!tzinfo || !cli || !existsSync('/usr/share/zoneinfo')) return false;
    const o = mariadbOptions();
    await pipeInto([tzinfo, '/usr/share/zoneinfo'], [cli, `-h${o.host}`, `-P${o.port}`, `-u${o.user}`, 'mysql']);
    return await convertTzWorks(conn);
  } finally {
    await conn.end();
  }
}
