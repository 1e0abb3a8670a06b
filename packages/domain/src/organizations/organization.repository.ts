import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import type { Organization, OrganizationRow } from './organization.types.js';

function toOrganization(row: OrganizationRow): Organization {
  return {
    id: row.id,
    name: row.name,
    timeZone: row.time_zone,
    analystSeats: row.analyst_seats,
    csvColumnSeparator: row.csv_column_separator,
    csvDecimalSeparator: row.csv_decimal_separator,
    csvQuoteStyle: row.csv_quote_style === 'always' ? 'always' : 'necessary',
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** SQL for the `organizations` table. */
export class OrganizationRepository {
  constructor(private readonly db: Knex) {}

  async create(input: { id: string; name: string; timeZone?: string }): Promise<Organization> {
    const [row] = await this.db<OrganizationRow>('organizations')
      .insert({ id: input.id, name: input.name, time_zone: input.timeZone ?? 'UTC' })
      .returning('*');
    return toOrganization(row as OrganizationRow);
  }

  async find(id: string): Promise<Organization | undefined> {
    const row = await this.db<OrganizationRow>('organizations').where({ id }).first();
    return row ? toOrganization(row) : undefined;
  }

  /** @throws NotFoundError */
  async get(id: string): Promise<Organization> {
    const org = await this.find(id);
    if (!org) throw new NotFoundError(`Organization ${id} not found`);
    return org;
  }

  async list(): Promise<Organization[]> {
    const rows = await this.db<OrganizationRow>('organizations').orderBy('created_at');
    return rows.map(toOrganization);
  }

  async count(): Promise<number> {
    const [row] = await this.db('organizations').count<{ count: string }[]>('* as count');
    return Number(row?.count ?? 0);
  }
}
