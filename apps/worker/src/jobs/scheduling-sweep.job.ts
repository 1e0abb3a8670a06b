import {
  DashboardScheduleRepository,
  SqlAlertRepository,
  ALERT_RESULT_RETENTION_DAYS,
  type Clock,
  type Knex,
  type Logger,
  type MailLedger,
} from '@sightline/domain';

/** Runs, results and mail records are kept this long (results: the contract's 30 days, plus a margin). */
const RETENTION_DAYS = ALERT_RESULT_RETENTION_DAYS + 1;

/**
 * Hourly purge of what scheduling leaves behind: schedule and alert runs (alert results are listed
 * for 30 days), idempotent-mail records and orphaned attachments.
 */
export function startSchedulingSweeps(o: { db: Knex; logger: Logger; ledger: MailLedger; clock: Clock }): { stop(): void } {
  const purge = setInterval(() => {
    const before = new Date(o.clock.now().getTime() - RETENTION_DAYS * 86_400_000);
    Promise.all([new DashboardScheduleRepository(o.db).purgeRuns(before), new SqlAlertRepository(o.db).purgeRuns(before), o.ledger.purge(before)])
      .then((counts) => {
        if (counts.some((n) => n > 0)) o.logger.info({ counts }, 'purged old schedule runs, alert results and mail records');
      })
      .catch((err: unknown) => o.logger.warn({ err }, 'scheduling purge failed'));
  }, 3600_000);
  purge.unref();
  return { stop: () => clearInterval(purge) };
}
