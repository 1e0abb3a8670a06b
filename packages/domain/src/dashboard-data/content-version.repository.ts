import type { Knex } from 'knex';

/**
 * The organization's content version (table `content_versions`): a counter that triggers bump in
 * the same transaction as any change to organization settings, dashboards, reports, filters, SQL
 * snippets or datasources.
 */
export class ContentVersionRepository {
  constructor(private readonly db: Knex) {}

  /** The current version (a bigint as text); undefined when the organization has no counter row. */
  async find(organizationId: string): Promise<string | undefined> {
    const row = await this.db('content_versions').where({ organization_id: organizationId }).first('version');
    return row ? String(row.version) : undefined;
  }
}
