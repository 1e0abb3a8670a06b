import type { Knex } from 'knex';
import { withTransaction } from '../db/db.js';
import { lastOccurrenceAtOrBefore, nextOccurrence } from './occurrences.js';
import type { Recurrence } from './schedule-grammar.js';

/** Most due items one tick claims in one transaction (the rest follow in the next batch). */
const TICK_BATCH = 200;

/** The idempotency key of a due time: one run per (item, due time), ever. */
function dueRunKey(dueAt: Date): string {
  return `due:${dueAt.toISOString()}`;
}

/** A locked due item and the time zone of its organization. */
interface DueItem<T> {
  item: T;
  timeZone: string;
}

/** What the tick loop needs of one kind of scheduled item (dashboard schedules, SQL alerts). */
export interface DueRunSource<T> {
  /** True when some item is due at `now` (a cheap check before opening a transaction). */
  hasDue(now: Date): Promise<boolean>;
  /** Locks up to `limit` due items in `trx`, skipping rows another tick holds. */
  lockDue(trx: Knex.Transaction, now: Date, limit: number): Promise<Array<DueItem<T>>>;
  /** The item's recurrence. @throws when the stored schedule no longer parses */
  recurrenceOf(item: T): Recurrence;
  /** The stored next due time (the due time a run stands for when the recurrence has none at or before `now`). */
  storedDueAt(item: T): Date | null;
  /** Inserts the run with `runKey` and enqueues its job in `trx`. @returns false when the key already ran */
  createRun(trx: Knex.Transaction, item: T, runKey: string, dueAt: Date): Promise<boolean>;
  /** Moves the item's next due time (null: never again). */
  setNextDue(trx: Knex.Transaction, item: T, next: Date | null): Promise<void>;
}

/**
 * The tick loop shared by dashboard schedules and SQL alerts: every item whose next due time is at
 * or before `now` gets ONE run, for the latest due time it missed (an item due while the platform
 * was down fires once when it comes back), and its next due time moves past `now`. Runs and their
 * jobs are written in the transaction that moves the next due time, and a run's key is its due
 * time, so any number of concurrent ticks produce exactly one run per due time.
 * @returns runs created
 */
export async function enqueueDueRuns<T>(db: Knex, now: Date, source: DueRunSource<T>): Promise<number> {
  if (!(await source.hasDue(now))) return 0;
  let created = 0;
  for (;;) {
    const batch = await withTransaction(db, async (trx) => {
      const due = await source.lockDue(trx, now, TICK_BATCH);
      for (const { item, timeZone } of due) {
        let next: Date | null = null;
        let dueAt: Date | null = null;
        try {
          const recurrence = source.recurrenceOf(item);
          dueAt = lastOccurrenceAtOrBefore(recurrence, now, timeZone) ?? source.storedDueAt(item);
          next = nextOccurrence(recurrence, now, timeZone);
        } catch {
          // stored before a grammar change made it invalid: it cannot fire until it is fixed
        }
        if (dueAt && (await source.createRun(trx, item, dueRunKey(dueAt), dueAt))) created++;
        await source.setNextDue(trx, item, next);
      }
      return due.length;
    });
    if (batch < TICK_BATCH) return created;
  }
}
