import type { Knex } from 'knex';
import type { Principal } from '../api-keys/permissions.js';
import { withTransaction } from '../db/db.js';
import { DashboardRepository } from '../dashboards/dashboard.repository.js';
import type { ShareMode } from '../dashboards/dashboard.types.js';
import { AppErrors, ValidationError, type AppError } from '../errors.js';
import type { MailService } from '../mail/mail.service.js';
import { UserGroupRepository } from '../user-groups/user-group.repository.js';
import { isBuiltInMember } from '../user-groups/user-group.memberships.js';
import type { UserGroupRecord } from '../user-groups/user-group.types.js';
import { UserRepository } from '../users/user.repository.js';
import type { UserRecord } from '../users/user.types.js';

export interface ShareDashboardInput {
  shareMode: ShareMode;
  /** Custom group ids; the built-in behaviours `all_users`/`all_analysts` are accepted as aliases. */
  userGroupIds: string[];
  notifyNewUsers: boolean;
  includeThumbnail: boolean;
}

export interface DashboardSharingServiceDeps {
  db: Knex;
  mail: MailService;
  /** Public base URL of the API server (links in mails). */
  apiBaseUrl: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Share Dashboard (contract row 29): who a dashboard is shared with (`share_mode` and user groups),
 * and an e-mail to the users who can see it now but could not before (`notify_new_users`).
 */
export class DashboardSharingService {
  constructor(private readonly deps: DashboardSharingServiceDeps) {}

  /** Users (active, invitation accepted) reached through `groups`. */
  private audience(users: UserRecord[], groups: UserGroupRecord[], members: Map<string, string[]>): Set<string> {
    const out = new Set<string>();
    const usable = users.filter((u) => !u.deactivatedAt && u.invitationAcceptedAt);
    for (const g of groups) {
      if (g.builtInBehavior) {
        for (const u of usable) if (isBuiltInMember(g.builtInBehavior, u)) out.add(u.id);
      } else {
        const ids = new Set(members.get(g.id) ?? []);
        for (const u of usable) if (ids.has(u.id)) out.add(u.id);
      }
    }
    return out;
  }

  /**
   * @throws NotFoundError (dashboard), ValidationError (unknown group ids, groups with a mode other
   *   than `custom`), ForbiddenError (no Manage Dashboards)
   */
  async share(principal: Principal, dashboardId: string, input: ShareDashboardInput): Promise<{ notified: number }> {
    principal.requireAny('Manage Dashboards');
    const org = principal.organizationId;
    return withTransaction(this.deps.db, async (trx) => {
      const dashboards = new DashboardRepository(trx);
      const dashboard = await dashboards.get(org, dashboardId);
      const groupRepo = new UserGroupRepository(trx);
      const allGroups = await groupRepo.list(org);
      const byId = new Map(allGroups.map((g) => [g.id, g]));
      const builtIn = (behavior: 'all_users' | 'all_analysts') => allGroups.find((g) => g.builtInBehavior === behavior);
      const errors: AppError[] = [];
      const resolved: UserGroupRecord[] = [];
      input.userGroupIds.forEach((id, i) => {
        const group = id === 'all_users' || id === 'all_analysts' ? builtIn(id) : byId.get(id);
        if (!group)
          errors.push(new ValidationError(`User group ${id} not found`, { source: { pointer: `/user_group_ids/${i}` }, code: 'user_group_not_found' }));
        else if (!resolved.includes(group)) resolved.push(group);
      });
      if (errors.length) throw new AppErrors(errors);
      if (input.shareMode !== 'custom' && resolved.length) {
        throw new ValidationError(`user_group_ids only apply to share_mode "custom" (got "${input.shareMode}")`, { source: { pointer: '/user_group_ids' } });
      }
      const target: UserGroupRecord[] =
        input.shareMode === 'all_users'
          ? [builtIn('all_users')!]
          : input.shareMode === 'all_analysts'
            ? [builtIn('all_analysts')!]
            : input.shareMode === 'custom'
              ? resolved
              : [];
      const before = allGroups.filter((g) => dashboard.userGroupIds.includes(g.id));
      await dashboards.update(org, dashboardId, { shareMode: input.shareMode === 'custom' && !target.length ? 'none' : input.shareMode });
      await dashboards.replaceUserGroups(
        org,
        dashboardId,
        target.map((g) => g.id),
      );
      if (!input.notifyNewUsers) return { notified: 0 };

      const users = await new UserRepository(trx).list(org);
      const customIds = [...before, ...target].filter((g) => !g.builtInBehavior).map((g) => g.id);
      const members = await groupRepo.memberIdsByGroup(org, customIds);
      const had = this.audience(users, before, members);
      const now = this.audience(users, target, members);
      const link = `${this.deps.apiBaseUrl.replace(/\/$/, '')}/dashboards/${dashboard.id}`;
      let notified = 0;
      for (const user of users) {
        if (!now.has(user.id) || had.has(user.id)) continue;
        const greeting = user.firstname ? `Hello ${user.firstname},` : 'Hello,';
        // Thumbnails are not rendered by this build, so include_thumbnail adds nothing to the mail.
        await this.deps.mail.enqueue(
          trx,
          'dashboard_shared',
          {
            to: [user.email],
            subject: `A dashboard was shared with you: ${dashboard.name}`,
            text: `${greeting}\n\nThe dashboard "${dashboard.name}" is now shared with you.\n\n${link}\n`,
            html: `<p>${escapeHtml(greeting)}</p><p>The dashboard <strong>${escapeHtml(dashboard.name)}</strong> is now shared with you.</p><p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`,
          },
          org,
        );
        notified++;
      }
      return { notified };
    });
  }
}
