// Scenario "ssh-tunnel": the cost of reaching PostgreSQL through an SSH tunnel (ssh2 → a private
// sshd on this machine → 127.0.0.1:5432) against the same queries over direct TCP, measured in the
// same run: streaming BENCH_SSH_ROWS (default 300000) rows, and opening sessions (Test Connection)
// on a warm tunnel. Needs /usr/sbin/sshd (.ci/run installs openssh-server).
import { createDomainServices, createDriver, newId, type ConnectionSettings, type Driver } from '@sightline/domain';
import { startSshd } from '../test/support/sshd.js';
import { createScratchDatabase, envNumber, median, type BenchMetric, type BenchScenario } from './support/harness.js';

async function streamRows(driver: Driver, rows: number): Promise<number> {
  const started = performance.now();
  const q = await driver.query(`SELECT g, md5(g::text) AS h, now() AS at FROM generate_series(1, ${rows}) AS g`, [], { timeoutMs: 600_000 });
  let n = 0;
  for await (const batch of q.rows()) n += batch.length;
  await q.close();
  if (n !== rows) throw new Error(`expected ${rows} rows, got ${n}`);
  return rows / ((performance.now() - started) / 1000);
}

async function sessions(driver: Driver, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) await driver.testConnection();
  return (performance.now() - started) / count;
}

export const scenario: BenchScenario = {
  name: 'ssh-tunnel',
  description: 'PostgreSQL through an SSH tunnel vs direct TCP (rows/s streamed, ms per new session)',
  async run(ctx) {
    const rows = envNumber('BENCH_SSH_ROWS', 300_000);
    const scratch = await createScratchDatabase('bench_ssh');
    const sshd = await startSshd();
    const services = createDomainServices({ db: scratch.db, encryptionKey: Buffer.alloc(32, 7) });
    try {
      const { organization } = await services.organizations.create('Bench');
      const datasourceId = newId();
      await scratch
        .db('datasources')
        .insert({ id: datasourceId, organization_id: organization.id, name: 'tunnelled', database_type: 'postgres', connection_mode: 'ssh_tunnel' });
      sshd.authorize((await services.sshKeys.keyPair(organization.id)).publicKey);
      const base: ConnectionSettings = {
        databaseType: 'postgres',
        host: '127.0.0.1',
        port: 5432,
        username: 'postgres',
        password: null,
        database: 'postgres',
        requireSsl: false,
        verifySsl: false,
        dataTimeZone: 'UTC',
      };
      const direct = createDriver(base);
      const tunnelled = createDriver({
        ...base,
        transport: services.sshTunnels.transportFor({ organizationId: organization.id, datasourceId, host: '127.0.0.1', port: sshd.port, username: sshd.user }),
      });
      const coldStarted = performance.now();
      await tunnelled.testConnection();
      const coldMs = performance.now() - coldStarted;
      ctx.log(`first session through a new tunnel: ${coldMs.toFixed(0)} ms`);
      const directRates: number[] = [];
      const tunnelRates: number[] = [];
      for (let i = 0; i < 3; i++) {
        directRates.push(await streamRows(direct, rows));
        tunnelRates.push(await streamRows(tunnelled, rows));
        ctx.log(`round ${i + 1}: direct ${Math.round(directRates[i]!)} rows/s, tunnel ${Math.round(tunnelRates[i]!)} rows/s`);
      }
      const directSession = await sessions(direct, 20);
      const tunnelSession = await sessions(tunnelled, 20);
      const directRate = median(directRates);
      const tunnelRate = median(tunnelRates);
      const metrics: BenchMetric[] = [
        { metric: 'direct rows/s (baseline)', value: directRate, unit: 'rows/s' },
        { metric: 'tunnel rows/s', value: tunnelRate, unit: 'rows/s' },
        // No goal: the tunnel adds ssh2's packet handling in this process and sshd's on the same cores.
        { metric: 'tunnel / direct throughput', value: tunnelRate / directRate, unit: 'ratio' },
        { metric: 'direct new session (baseline)', value: directSession, unit: 'ms' },
        { metric: 'tunnel new session (warm tunnel)', value: tunnelSession, unit: 'ms', note: `ratio ${(tunnelSession / directSession).toFixed(2)}` },
        { metric: 'first session incl. SSH handshake', value: coldMs, unit: 'ms' },
      ];
      return metrics;
    } finally {
      await services.sshTunnels.close();
      await sshd.stop();
      await scratch.drop();
    }
  },
};
