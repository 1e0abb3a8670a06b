import type { Knex } from 'knex';
import { isConnectionFailure } from '../db/connection-errors.js';
import { withTransaction } from '../db/db.js';
import type { JobQueue } from '../queue/queue.js';
import { ExecutionRepository } from './execution.repository.js';
import type { Execution, ExecutionJob } from './execution.types.js';

/** A new execution's row as `ExecutionRepository.insert` takes it (id and job id chosen by the caller). */
export type NewExecutionRow = Parameters<ExecutionRepository['insert']>[0];

/** One start waiting for its batch. */
interface PendingStart {
  row: NewExecutionRow;
  queueName: string;
  attempts: number;
  /** Resolved or rejected (a retry of a failed batch skips it). */
  done: boolean;
  resolve(execution: Execution): void;
  reject(err: unknown): void;
}

/** Most starts written in one transaction (one multi-row insert, one job insert per queue). */
const MAX_BATCH = 200;
/** Times a start may find its key's unfinished execution gone between insert and lookup. */
const MAX_ATTEMPTS = 5;

/**
 * Starts executions in batches (group commit): the starts that arrive while a batch is being
 * written wait and go together in the next one, as one lookup of running keys, then one
 * transaction of one multi-row insert and one job insert per queue. Alone, a start is written at
 * once (a batch of one: the same statements as a single start). Under a burst of submits the
 * statements, commits and queue notifications per execution fall with the batch size instead of
 * every submit holding a connection through its own four-statement transaction.
 *
 * Single flight is kept: starts of one data key in a batch share one execution, and the unique
 * index of unfinished executions per key (`executions_active_data_key`) skips a key that is
 * unfinished already, whose execution the start then joins.
 */
export class ExecutionStarter {
  private pending: PendingStart[] = [];
  private writing = false;

  constructor(private readonly deps: { db: Knex; queue: JobQueue }) {}

  /**
   * Starts `row` (job in `queueName`) unless its data key has an unfinished execution, which it
   * then returns instead.
   * @throws whatever writing the batch threw (a failed batch of several is retried start by start,
   *   so each start gets its own outcome)
   */
  start(row: NewExecutionRow, queueName: string): Promise<Execution> {
    return new Promise<Execution>((resolve, reject) => {
      const p: PendingStart = {
        row,
        queueName,
        attempts: 0,
        done: false,
        resolve: (e) => {
          p.done = true;
          resolve(e);
        },
        reject: (err) => {
          p.done = true;
          reject(err);
        },
      };
      this.pending.push(p);
      if (!this.writing) {
        this.writing = true;
        // after the current tick, so starts submitted together share the first batch
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, MAX_BATCH);
        try {
          await this.write(batch);
        } catch (err) {
          const open = batch.filter((p) => !p.done);
          // the database unreachable: every start fails alike (and at once)
          if (open.length === 1 || isConnectionFailure(err)) for (const p of open) p.reject(err);
          // one bad start (e.g. its datasource deleted meanwhile) must not fail the others
          else for (const p of open) await this.write([p]).catch((e: unknown) => p.reject(e));
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(batch: PendingStart[]): Promise<void> {
    // starts of one key share one execution (the data key includes the organization)
    const byKey = new Map<string, PendingStart[]>();
    for (const p of batch) byKey.set(p.row.data_key, [...(byKey.get(p.row.data_key) ?? []), p]);
    const settle = (key: string, execution: Execution) => {
      for (const p of byKey.get(key) ?? []) p.resolve(execution);
      byKey.delete(key);
    };
    const repo = new ExecutionRepository(this.deps.db);
    // joins without a transaction when the key is running already (a burst of identical requests)
    for (const [key, execution] of await repo.listUnfinishedByDataKeys([...byKey.keys()])) settle(key, execution);
    if (!byKey.size) return;
    const rows = [...byKey.values()].map((ps) => ps[0]!);
    const inserted = await withTransaction(this.deps.db, async (trx) => {
      const executions = await new ExecutionRepository(trx).insertManyUnlessRunning(rows.map((p) => p.row));
      const byQueue = new Map<string, Array<{ id: string; data: ExecutionJob }>>();
      const queueOf = new Map(rows.map((p) => [p.row.id, p.queueName]));
      for (const e of executions) {
        const queueName = queueOf.get(e.id)!;
        byQueue.set(queueName, [...(byQueue.get(queueName) ?? []), { id: e.jobId!, data: { executionId: e.id, organizationId: e.organizationId } }]);
      }
      for (const [queueName, jobs] of byQueue) await this.sendJobs(trx, queueName, jobs);
      return executions;
    });
    for (const e of inserted) settle(e.dataKey, e);
    if (!byKey.size) return;
    // the rest lost to an unfinished execution of their key that another transaction inserted
    const running = await repo.listUnfinishedByDataKeys([...byKey.keys()]);
    for (const [key, ps] of [...byKey]) {
      const execution = running.get(key);
      if (execution) {
        settle(key, execution);
        continue;
      }
      // that one finished in between: start anew in the next batch (bounded: it would need a start
      // and a finish of the key between each two statements here)
      for (const p of ps) {
        if (++p.attempts >= MAX_ATTEMPTS) p.reject(new Error(`Could not start or join an execution of data key ${key}`));
        else this.pending.push(p);
      }
    }
  }

  private async sendJobs(trx: Knex.Transaction, queueName: string, jobs: Array<{ id: string; data: ExecutionJob }>): Promise<void> {
    if (this.deps.queue.sendMany) {
      await this.deps.queue.sendMany(queueName, jobs, { db: trx });
      return;
    }
    for (const job of jobs) await this.deps.queue.send(queueName, job.data, { db: trx, id: job.id });
  }
}
