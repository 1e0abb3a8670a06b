import pg from 'pg';

export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.SIGHTLINE_TEST_ADMIN_URL;
  const template = process.env.SIGHTLINE_TEST_TEMPLATE;
  if (adminUrl && template) {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }
  const server = (globalThis as { __SIGHTLINE_PG__?: { stop(): Promise<void> } }).__SIGHTLINE_PG__;
  if (server) await server.stop();
}
