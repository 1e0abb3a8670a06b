import type { Knex } from 'knex';
import { newId } from '../ids.js';

/** Row of `organization_ssh_keys`. */
export interface OrganizationSshKeyRow {
  organization_id: string;
  key_type: string;
  public_key: string;
  fingerprint: string;
  private_key_enc: string;
  created_at: Date;
  updated_at: Date;
}

/** A pinned bastion host key (row of `datasource_ssh_host_keys`, trimmed). */
export interface PinnedHostKey {
  host: string;
  port: number;
  fingerprint: string;
}

/** SQL for the organizations' SSH key pairs and the pinned host keys of bastions. */
export class SshKeyRepository {
  constructor(private readonly db: Knex) {}

  findKey(organizationId: string): Promise<OrganizationSshKeyRow | undefined> {
    return this.db<OrganizationSshKeyRow>('organization_ssh_keys').where({ organization_id: organizationId }).first();
  }

  /** Stores the organization's key pair unless it has one; returns the one that won (concurrent first uses agree). */
  async insertKeyIfMissing(row: Omit<OrganizationSshKeyRow, 'created_at' | 'updated_at'>): Promise<OrganizationSshKeyRow> {
    await this.db('organization_ssh_keys').insert(row).onConflict('organization_id').ignore();
    return (await this.findKey(row.organization_id))!;
  }

  async findHostKey(datasourceId: string, host: string, port: number): Promise<PinnedHostKey | undefined> {
    return this.db('datasource_ssh_host_keys').where({ datasource_id: datasourceId, host, port }).first('host', 'port', 'fingerprint');
  }

  /** Pins a host key unless one is pinned already (the first one stays). */
  async pinHostKey(organizationId: string, datasourceId: string, host: string, port: number, fingerprint: string): Promise<void> {
    await this.db('datasource_ssh_host_keys')
      .insert({ id: newId(), organization_id: organizationId, datasource_id: datasourceId, host, port, fingerprint })
      .onConflict(['datasource_id', 'host', 'port'])
      .ignore();
  }

  /** Forgets the pinned host keys of a datasource (its tunnel settings changed). */
  async forgetHostKeys(organizationId: string, datasourceId: string): Promise<void> {
    await this.db('datasource_ssh_host_keys').where({ organization_id: organizationId, datasource_id: datasourceId }).delete();
  }
}
