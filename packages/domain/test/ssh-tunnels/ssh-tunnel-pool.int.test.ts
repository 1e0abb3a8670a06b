// The SSH tunnel pool on its own, against a private sshd: sessions of one datasource share one SSH
// connection, an idle tunnel closes, and a datasource change closes its tunnel.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createApiTestContext, auth, type ApiTestContext } from '../../../../test/support/context.js';
import { startSshd, type TestSshd } from '../../../../test/support/sshd.js';
import { createDriver, type ConnectionSettings } from '../../src/drivers/index.js';
import { SshTunnelPool } from '../../src/ssh-tunnels/index.js';

let t: ApiTestContext;
let sshd: TestSshd;
let datasourceId: string;

beforeAll(async () => {
  t = await createApiTestContext();
  sshd = await startSshd();
  sshd.authorize((await t.services.sshKeys.keyPair(t.organization.id)).publicKey);
  const res = await t.api
    .post('/datasources')
    .set('Authorization', auth(t.adminSecret))
    .send({
      data: {
        attributes: {
          name: 'tunnelled',
          database_type: 'postgres',
          connection_mode: 'ssh_tunnel',
          host: '127.0.0.1',
          port: 5432,
          username: 'postgres',
          ssh_tunnel_host: '127.0.0.1',
          ssh_tunnel_port: sshd.port,
          ssh_tunnel_user: sshd.user,
        },
      },
    });
  expect(res.status).toBe(201);
  datasourceId = res.body.data.id;
});

afterAll(async () => {
  await t?.close();
  await sshd?.stop();
});

async function waitFor(check: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('SshTunnelPool', () => {
  it('shares one tunnel between concurrent sessions and closes it when idle', async () => {
    const pool = new SshTunnelPool({ db: t.database.db, keys: t.services.sshKeys, idleMs: 300 });
    const settings: ConnectionSettings = {
      databaseType: 'postgres',
      host: '127.0.0.1',
      port: 5432,
      username: 'postgres',
      password: null,
      database: 'postgres',
      requireSsl: false,
      verifySsl: false,
      dataTimeZone: 'UTC',
      transport: pool.transportFor({ organizationId: t.organization.id, datasourceId, host: '127.0.0.1', port: sshd.port, username: sshd.user }),
    };
    const driver = createDriver(settings);
    const versions = await Promise.all(Array.from({ length: 5 }, () => driver.testConnection()));
    expect(versions.every((v) => v.serverVersion)).toBe(true);
    expect(pool.size).toBe(1);
    // no session left: the tunnel closes after the idle time
    await waitFor(() => pool.size === 0);
    // and a later session opens a fresh one
    await driver.testConnection();
    expect(pool.size).toBe(1);
    await pool.close();
    expect(pool.size).toBe(0);
  });

  it('closes a datasource tunnel when the datasource is changed through the service', async () => {
    const ds = await t.services.datasources.getByIdUnchecked(t.organization.id, datasourceId);
    await createDriver(t.services.datasources.connectionSettings(ds)).testConnection();
    expect(t.services.sshTunnels.size).toBe(1);
    const res = await t.api
      .patch(`/datasources/${datasourceId}`)
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { type: 'datasources', id: datasourceId, attributes: { database: 'postgres' } } });
    expect(res.status).toBe(200);
    expect(t.services.sshTunnels.size).toBe(0);
  });
});
