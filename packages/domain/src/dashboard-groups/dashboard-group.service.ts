import type { Knex } from 'knex';
import type { Principal } from '../api-keys/permissions.js';
import { lock, withTransaction } from '../db/db.js';
import { DashboardRepository } from '../dashboards/dashboard.repository.js';
import { DASHBOARD_MANAGE_PERMISSION, DASHBOARD_VIEW_PERMISSIONS } from '../dashboards/dashboard.permissions.js';
import { AppErrors, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { DashboardGroupRepository } from './dashboard-group.repository.js';
import { dashboardGroupFields } from './dashboard-group.fields.js';
import type { CreateDashboardGroupInput, DashboardGroup, UpdateDashboardGroupInput } from './dashboard-group.types.js';

export interface DashboardGroupServiceDeps {
  db: Knex;
}

/**
 * Dashboard groups (contract rows 33–38). Personal groups are invisible to API keys (404). Reads need
 * View or Manage Dashboards, writes Manage Dashboards.
 */
export class DashboardGroupService {
  constructor(private readonly deps: DashboardGroupServiceDeps) {}

  /** List: explicitly sorted groups first, then by name ascending. */
  list(principal: Principal): Promise<DashboardGroup[]> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    return new DashboardGroupRepository(this.deps.db).list(principal.organizationId);
  }

  /** @throws NotFoundError */
  get(principal: Principal, id: string): Promise<DashboardGroup> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    return new DashboardGroupRepository(this.deps.db).get(principal.organizationId, id);
  }

  /** Groups by ids (includes); unknown ids are skipped. */
  listByIds(organizationId: string, ids: readonly string[]): Promise<DashboardGroup[]> {
    return new DashboardGroupRepository(this.deps.db).listByIds(organizationId, ids);
  }

  private async checkDashboards(trx: Knex, organizationId: string, ids: readonly string[] | undefined): Promise<void> {
    if (!ids?.length) return;
    const unknown = await new DashboardRepository(trx).unknownIds(organizationId, ids);
    if (unknown.length) {
      throw new AppErrors(
        unknown.map(
          (id) =>
            new ValidationError(`Dashboard ${id} not found`, {
              code: 'dashboard_not_found',
              source: { pointer: `/data/relationships/dashboards/data/${ids.indexOf(id)}` },
            }),
        ),
      );
    }
  }

  /** Create Dashboard Group. @throws ForbiddenError, ValidationError (unknown dashboards) */
  async create(principal: Principal, input: CreateDashboardGroupInput): Promise<DashboardGroup> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    return withTransaction(this.deps.db, async (trx) => {
      await this.checkDashboards(trx, principal.organizationId, input.dashboardIds);
      const repo = new DashboardGroupRepository(trx);
      const id = newId();
      const { dashboardIds, ...group } = dashboardGroupFields.prepareCreate(input);
      await repo.insert({ ...group, id, organizationId: principal.organizationId });
      await repo.replaceMembers(principal.organizationId, id, dashboardIds ?? []);
      return repo.get(principal.organizationId, id);
    });
  }

  /** Update Dashboard Group (`dashboardIds` replaces the members). @throws NotFoundError, ForbiddenError, ValidationError */
  async update(principal: Principal, id: string, input: UpdateDashboardGroupInput): Promise<DashboardGroup> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    return withTransaction(this.deps.db, async (trx) => {
      const repo = new DashboardGroupRepository(trx);
      const current = await repo.get(principal.organizationId, id);
      await this.checkDashboards(trx, principal.organizationId, input.dashboardIds);
      const { dashboardIds, ...patch } = dashboardGroupFields.prepareUpdate(input, current);
      await repo.update(principal.organizationId, id, patch);
      if (dashboardIds !== undefined) await repo.replaceMembers(principal.organizationId, id, dashboardIds);
      return repo.get(principal.organizationId, id);
    });
  }

  /** Delete Dashboard Group (its dashboards stay). @throws NotFoundError, ForbiddenError */
  async delete(principal: Principal, id: string): Promise<void> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const repo = new DashboardGroupRepository(this.deps.db);
    await repo.get(principal.organizationId, id);
    await repo.delete(principal.organizationId, id);
  }

  /**
   * Sort Dashboard Groups: the listed groups come first in the given order; all others lose their
   * explicit position and follow by name (contract row 38).
   * @throws ForbiddenError, ValidationError (unknown or repeated ids, pointer `/dashboard_group_ids/<i>`)
   */
  async sort(principal: Principal, ids: readonly string[]): Promise<void> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const repeated = ids.findIndex((id, i) => ids.indexOf(id) !== i);
    if (repeated >= 0)
      throw new ValidationError(`Dashboard group ${ids[repeated]} is listed twice`, { source: { pointer: `/dashboard_group_ids/${repeated}` } });
    await withTransaction(this.deps.db, async (trx) => {
      const repo = new DashboardGroupRepository(trx);
      await lock(trx, `dashboard_groups_sort:${principal.organizationId}`);
      const unknown = await repo.unknownIds(principal.organizationId, ids);
      if (unknown.length) {
        throw new AppErrors(
          unknown.map(
            (id) =>
              new ValidationError(`Dashboard group ${id} not found`, {
                code: 'dashboard_group_not_found',
                source: { pointer: `/dashboard_group_ids/${ids.indexOf(id)}` },
              }),
          ),
        );
      }
      await repo.setOrder(principal.organizationId, ids);
    });
  }
}
