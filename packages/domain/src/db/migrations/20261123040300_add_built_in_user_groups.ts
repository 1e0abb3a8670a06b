import type { Knex } from 'knex';

// Organizations created before user groups existed get their two built-in groups here; newer ones get
// them from the user-groups provisioner when they are created. Ids use the `xxxx-xxxx-xxxx` shape
// (hex digits of a per-row random md5).
export async function up(knex: Knex): Promise<void> {
  for (const [behavior, name, description] of [
    ['all_users', 'All Users', 'Every user of the organization'],
    ['all_analysts', 'All Analysts', 'Every analyst and admin of the organization'],
  ] as const) {
    await knex.raw(
      `INSERT INTO user_groups (id, organization_id, name, description, built_in_behavior)
       SELECT regexp_replace(substr(md5(random()::text || o.id || ?), 1, 12), '^(.{4})(.{4})(.{4})$', '\\1-\\2-\\3'), o.id, ?, ?, ?
       FROM organizations o
       WHERE NOT EXISTS (SELECT 1 FROM user_groups g WHERE g.organization_id = o.id AND g.built_in_behavior = ?)`,
      [behavior, name, description, behavior, behavior],
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex('user_groups').whereNotNull('built_in_behavior').delete();
}
