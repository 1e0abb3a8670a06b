import type { Knex } from 'knex';
import { EXECUTION_RETENTION_HOURS } from '../executions/execution.repository.js';
import type { ExecutionStatus } from '../executions/execution.types.js';

/** What a status poll needs of a data key's newest stored result. */
export interface ResultState {
  executionId: string;
  dataTimestamp: Date;
  completedAt: Date;
}

/** What a status poll needs of a data key's newest execution. */
export interface ExecutionState {
  id: string;
  executionStatus: ExecutionStatus;
  createdAt: Date;
  completedAt: Date | null;
}

/** The state of a dashboard's data keys, with the organization's content version, read together. */
export interface PollState {
  /** The content version (a bigint as text); undefined when the organization has no counter row. */
  version: string | undefined;
  results: Map<string, ResultState>;
  executions: Map<string, ExecutionState>;
}

interface PollStateRow {
  src: 'v' | 'r' | 'e';
  data_key: string | null;
  id: string;
  t1: number | null;
  t2: number | null;
  status: ExecutionStatus | null;
}

const epochMs = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;

/**
 * The organization's content version (table `content_versions`: a counter that triggers bump in
 * the same transaction as any change to organization settings, dashboards, reports, filters, SQL
 * snippets or datasources) and the read side of a status poll.
 */
export class ContentVersionRepository {
  constructor(private readonly db: Knex) {}

  /** The current version (a bigint as text); undefined when the organization has no counter row. */
  async find(organizationId: string): Promise<string | undefined> {
    const row = await this.db('content_versions').where({ organization_id: organizationId }).first('version');
    return row ? String(row.version) : undefined;
  }

  /**
   * In one statement (one round trip): the content version, and for each of `dataKeys` the newest
   * complete stored result and the newest execution of the retention window — only the columns a
   * poll reads, times as epoch milliseconds (the same values node-pg's date parser gives).
   */
  async pollState(organizationId: string, dataKeys: readonly string[]): Promise<PollState> {
    const keys = [...dataKeys];
    const { rows } = await this.db.raw<{ rows: PollStateRow[] }>(
      `SELECT 'v' AS src, NULL::text AS data_key, version::text AS id, NULL::float8 AS t1, NULL::float8 AS t2, NULL::text AS status
         FROM content_versions WHERE organization_id = ?
       UNION ALL
       SELECT * FROM (
         SELECT DISTINCT ON (data_key) 'r', data_key, execution_id::text, ${epochMs('data_timestamp')}, ${epochMs('completed_at')}, NULL::text
           FROM results WHERE organization_id = ? AND complete AND data_key = ANY(?::text[])
          ORDER BY data_key, completed_at DESC) r
       UNION ALL
       SELECT * FROM (
         SELECT DISTINCT ON (data_key) 'e', data_key, id::text, ${epochMs('created_at')}, ${epochMs('completed_at')}, execution_status::text
           FROM executions WHERE organization_id = ? AND data_key = ANY(?::text[]) AND created_at > now() - interval '${EXECUTION_RETENTION_HOURS} hours'
          ORDER BY data_key, created_at DESC) e`,
      [organizationId, organizationId, keys, organizationId, keys],
    );
    const state: PollState = { version: undefined, results: new Map(), executions: new Map() };
    for (const row of rows) {
      if (row.src === 'v') state.version = row.id;
      else if (row.src === 'r') state.results.set(row.data_key!, { executionId: row.id, dataTimestamp: new Date(row.t1!), completedAt: new Date(row.t2!) });
      else
        state.executions.set(row.data_key!, {
          id: row.id,
          executionStatus: row.status!,
          createdAt: new Date(row.t1!),
          completedAt: row.t2 === null ? null : new Date(row.t2),
        });
    }
    return state;
  }
}
