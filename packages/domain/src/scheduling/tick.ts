import { z } from 'zod';
import type { DashboardScheduleService } from '../dashboard-schedules/dashboard-schedule.service.js';
import type { Clock } from '../clock.js';
import type { SqlAlertService } from '../sql-alerts/sql-alert.service.js';
import { SCHEDULING_QUEUES } from '../queue/scheduling-queues.js';

/** pg-boss queue of the one-minute tick (a cron schedule sends one job per minute). */
export const SCHEDULING_TICK_QUEUE = SCHEDULING_QUEUES.tick;

/**
 * One tick: turns every due dashboard schedule and SQL alert into exactly one run (with its job).
 * Safe to run any number of times, concurrently, in any number of processes.
 * @returns runs created
 */
export async function runSchedulingTick(
  deps: { clock: Clock; dashboardSchedules: DashboardScheduleService; sqlAlerts: SqlAlertService },
  now: Date = deps.clock.now(),
): Promise<{ dashboardSchedules: number; sqlAlerts: number }> {
  const [dashboardSchedules, sqlAlerts] = await Promise.all([deps.dashboardSchedules.enqueueDue(now), deps.sqlAlerts.enqueueDue(now)]);
  return { dashboardSchedules, sqlAlerts };
}

/** Payload of `dashboard_schedules.run` and `sql_alerts.run` jobs: checked before `send` and on receipt. */
export const runJobSchema = z.object({ organizationId: z.string().min(1).max(64), runId: z.uuid() }).strict();
