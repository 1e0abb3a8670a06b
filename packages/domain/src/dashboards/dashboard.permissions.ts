import type { Permission } from '../api-keys/permissions.js';

/** Who may read dashboards, dashboard groups, reports and filters (contract row 19: View ∨ Manage Dashboards). */
export const DASHBOARD_VIEW_PERMISSIONS: Permission[] = ['View Dashboards', 'Manage Dashboards'];
/** Who may change them (contract rows 18, 21, 22, 25, 26, 30–33, 36–38, 45, 48, 49, 51, 56, 59, 60). */
export const DASHBOARD_MANAGE_PERMISSION: Permission = 'Manage Dashboards';

const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(Z)?$/;

/**
 * Normalises a time of day written `HH:MM`, `HH:MM:SS`, optionally with a trailing `Z`
 * (contract §1.10: the samples show `15:42` and `14:15:22Z`) to `HH:MM`; seconds are dropped.
 * @returns the `HH:MM` form, or undefined when the text is not a time of day
 */
export function normalizeTimeOfDay(text: string): string | undefined {
  const m = TIME_OF_DAY.exec(text);
  return m ? `${m[1]}:${m[2]}` : undefined;
}
