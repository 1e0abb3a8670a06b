import {
  DASHBOARD_SCHEDULE_RUN_QUEUE,
  DashboardScheduleRunner,
  SCHEDULING_TICK_QUEUE,
  SQL_ALERT_RUN_QUEUE,
  SqlAlertRunner,
  ensureSchedulingQueues,
  runJobSchema,
  runSchedulingTick,
  scheduleTick,
  sendTickNow,
  type AlertAttachmentRenderer,
  type DashboardScheduleRunJob,
  type DomainServices,
  type Knex,
  type Logger,
  type PgBoss,
  type ScheduleRenderer,
  type SqlAlertRunJob,
} from '@sightline/domain';

export interface SchedulingConsumerOptions {
  db: Knex;
  boss: PgBoss;
  logger: Logger;
  services: DomainServices;
  /** Schedule/alert runs handled at once in this process. */
  concurrency: number;
  renderers?: { schedules?: ScheduleRenderer; alerts?: AlertAttachmentRenderer };
  /** Seconds between polls of the run queues (default 2). */
  pollingIntervalSeconds?: number;
  /** Send a tick at start (default true): what came due while the platform was down fires now. */
  tickAtStart?: boolean;
  /** Longest wait for a schedule's queries before mailing what there is. */
  maxDataWaitMs?: number;
}

/**
 * Consumes the one-minute tick (a pg-boss cron schedule) and the runs it creates: dashboard
 * schedule runs (`dashboard_schedules.run`) and SQL alert runs (`sql_alerts.run`). A malformed
 * payload goes to the dead letters at once; a failing run is retried by pg-boss (a worker that dies
 * stops its heartbeats, so its runs are retried by another one).
 */
export async function startSchedulingConsumers(o: SchedulingConsumerOptions): Promise<{ stop(): Promise<void> }> {
  await ensureSchedulingQueues(o.boss);
  await scheduleTick(o.boss);
  const polling = o.pollingIntervalSeconds ?? 2;
  // runs poll their executions at the queue's polling pace (at most every 2 s, at least every 250 ms)
  const waitMs = Math.min(2000, Math.max(250, polling * 500));
  const s = o.services;
  const scheduleRunner = new DashboardScheduleRunner({
    db: o.db,
    clock: s.clock,
    logger: o.logger.child({ queue: DASHBOARD_SCHEDULE_RUN_QUEUE }),
    mail: s.mail,
    dashboards: s.dashboards,
    reports: s.reports,
    organizations: s.organizations,
    dashboardData: s.dashboardData,
    executions: s.executions,
    resultStore: s.resultStore,
    renderer: o.renderers?.schedules,
    apiBaseUrl: s.apiBaseUrl,
    maxDataWaitMs: o.maxDataWaitMs,
    pollIntervalMs: waitMs,
  });
  const alertRunner = new SqlAlertRunner({
    db: o.db,
    clock: s.clock,
    logger: o.logger.child({ queue: SQL_ALERT_RUN_QUEUE }),
    mail: s.mail,
    alerts: s.sqlAlerts,
    executions: s.executions,
    organizations: s.organizations,
    resultStore: s.resultStore,
    renderer: o.renderers?.alerts,
    apiBaseUrl: s.apiBaseUrl,
    pollIntervalMs: waitMs,
  });
  await o.boss.work(SCHEDULING_TICK_QUEUE, { batchSize: 1, pollingIntervalSeconds: polling }, async () => {
    const created = await runSchedulingTick({ clock: s.clock, dashboardSchedules: s.dashboardSchedules, sqlAlerts: s.sqlAlerts });
    if (created.dashboardSchedules || created.sqlAlerts) o.logger.info({ runs: created }, 'scheduling tick');
  });
  const consume = <T>(queue: string, handle: (job: T) => Promise<unknown>) =>
    o.boss.work(queue, { batchSize: 1, localConcurrency: o.concurrency, pollingIntervalSeconds: polling, perJobResults: true }, async (jobs) =>
      Promise.all(
        jobs.map(async (job) => {
          const parsed = runJobSchema.safeParse(job.data);
          if (!parsed.success) return { id: job.id, status: 'deadletter' as const, output: { reason: parsed.error.message } };
          try {
            return { id: job.id, status: 'completed' as const, output: { outcome: await handle(parsed.data as T) } };
          } catch (err) {
            return { id: job.id, status: 'failed' as const, output: { message: (err as Error).message } };
          }
        }),
      ),
    );
  await consume<DashboardScheduleRunJob>(DASHBOARD_SCHEDULE_RUN_QUEUE, (job) => scheduleRunner.run(job));
  await consume<SqlAlertRunJob>(SQL_ALERT_RUN_QUEUE, (job) => alertRunner.run(job));
  if (o.tickAtStart ?? true) await sendTickNow(o.boss, o.logger);
  return {
    stop: async () => {
      await Promise.all([SCHEDULING_TICK_QUEUE, DASHBOARD_SCHEDULE_RUN_QUEUE, SQL_ALERT_RUN_QUEUE].map((q) => o.boss.offWork(q)));
    },
  };
}
