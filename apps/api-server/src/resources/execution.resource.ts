import type { Execution } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

export const executionResource = defineResource({
  type: 'executions',
  attributes: [
    'execution_id',
    'execution_type',
    'execution_status',
    'result_columns',
    'result_rows',
    'result_size',
    'created_at',
    'updated_at',
    'started_at',
    'completed_at',
    'error_message',
  ],
  relationships: {},
});

export function presentExecution(e: Execution): ResourceRecord {
  return {
    id: e.id,
    attributes: {
      execution_id: e.id,
      execution_type: e.executionType,
      execution_status: e.executionStatus,
      result_columns: e.resultColumns,
      result_rows: e.resultRows,
      result_size: e.resultSize,
      created_at: e.createdAt.toISOString(),
      updated_at: e.updatedAt.toISOString(),
      started_at: e.startedAt?.toISOString() ?? null,
      completed_at: e.completedAt?.toISOString() ?? null,
      // Sightline: the database's message for query_error, timed_out and friends
      error_message: e.errorMessage,
    },
  };
}
