import type { ExecutionStatus } from '../executions/execution.types.js';

/** Trigger conditions of a SQL alert (contract §3.10); `has_results` is the default. */
export const TRIGGER_CONDITIONS = ['has_results', 'no_results', 'greater_than', 'lower_than', 'equal', 'not_equal'] as const;
/** One of `TRIGGER_CONDITIONS`. */
export type TriggerCondition = (typeof TRIGGER_CONDITIONS)[number];

/** Conditions that compare the first column of the first row with `trigger_value`. */
export const COMPARISON_CONDITIONS: readonly TriggerCondition[] = ['greater_than', 'lower_than', 'equal', 'not_equal'];

/** When a SQL alert mails (contract §4.9). */
export const EMAIL_CONDITIONS = ['triggered', 'changed', 'all'] as const;
/** One of `EMAIL_CONDITIONS`. */
export type EmailCondition = (typeof EMAIL_CONDITIONS)[number];

/** The contract's SqlAlertResultStatus. */
export const SQL_ALERT_RESULT_STATUSES = ['ok', 'alert_triggered', 'alert_error', 'query_error', 'internal_error', 'internal_timeout', 'cancelled'] as const;
/** One of `SQL_ALERT_RESULT_STATUSES`. */
export type SqlAlertResultStatus = (typeof SQL_ALERT_RESULT_STATUSES)[number];

/** Statuses that are errors (mailed to `error_emails` when set). */
export const ERROR_RESULT_STATUSES: readonly SqlAlertResultStatus[] = ['alert_error', 'query_error', 'internal_error', 'internal_timeout'];

/** What an alert query returned, as far as the evaluation needs it. */
export interface AlertQueryOutcome {
  /** Rows the query returned. */
  rowCount: number;
  /** First column of the first row; undefined when there is no row or no column. */
  firstValue: unknown;
}

/** The outcome of evaluating one run. */
export interface AlertEvaluation {
  status: SqlAlertResultStatus;
  /** Alert-evaluation error (`last_error_message`), e.g. a non-numeric value for a comparison. */
  errorMessage: string | null;
}

const NUMERIC_TEXT = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/**
 * The first cell as a number: JSON numbers, and numeric text (drivers return NUMERIC and BIGINT as
 * strings to keep their precision).
 * @returns undefined when the value is not numeric (null, boolean, other text, objects)
 */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && NUMERIC_TEXT.test(value)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return 'no value';
  if (value === null) return 'NULL';
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

/**
 * Evaluates the trigger condition on a successful query: `has_results`/`no_results` look at the row
 * count; comparisons take the first column of the first row, `<value> <condition> <trigger_value>`.
 * No row, no column, a non-numeric value or a missing `trigger_value` give `alert_error`.
 */
export function evaluateTrigger(condition: TriggerCondition, triggerValue: number | null, outcome: AlertQueryOutcome): AlertEvaluation {
  switch (condition) {
    case 'has_results':
      return { status: outcome.rowCount > 0 ? 'alert_triggered' : 'ok', errorMessage: null };
    case 'no_results':
      return { status: outcome.rowCount === 0 ? 'alert_triggered' : 'ok', errorMessage: null };
    default: {
      if (triggerValue === null || !Number.isFinite(triggerValue)) {
        return { status: 'alert_error', errorMessage: `trigger_value is required for the ${condition} condition` };
      }
      if (outcome.rowCount === 0) {
        return {
          status: 'alert_error',
          errorMessage: `The query returned no rows; ${condition} compares the first column of the first row with ${triggerValue}`,
        };
      }
      const value = numericValue(outcome.firstValue);
      if (value === undefined) {
        return {
          status: 'alert_error',
          errorMessage: `The first column of the first row is ${describe(outcome.firstValue)}, not a number; ${condition} needs a numeric result`,
        };
      }
      const hit =
        condition === 'greater_than'
          ? value > triggerValue
          : condition === 'lower_than'
            ? value < triggerValue
            : condition === 'equal'
              ? value === triggerValue
              : value !== triggerValue;
      return { status: hit ? 'alert_triggered' : 'ok', errorMessage: null };
    }
  }
}

/**
 * The alert status of an execution that did not succeed (the query never produced rows to evaluate).
 * `timed_out` (the statement timeout) is the query's own failure: `query_error`.
 */
export function statusOfFailedExecution(status: ExecutionStatus): SqlAlertResultStatus {
  switch (status) {
    case 'cancelled':
      return 'cancelled';
    case 'query_error':
    case 'timed_out':
      return 'query_error';
    case 'internal_timeout':
      return 'internal_timeout';
    default:
      return 'internal_error';
  }
}

/** Who gets a run's mail: the regular recipients, the error recipients, or nobody. */
export type AlertMailDecision = { send: false } | { send: true; audience: 'regular' | 'errors'; reason: 'triggered' | 'resolved' | 'ok' | 'error' };

/** The alert's recipients as far as the decision needs them. */
export interface AlertRecipients {
  /** Any of `emails`, `cc_emails`, `bcc_emails` set. */
  hasRegular: boolean;
  hasErrorEmails: boolean;
}

/**
 * Decides whether a run mails, and whom (contract §4.9):
 * - `triggered`: when the condition holds;
 * - `changed`: when the evaluation flips between triggered and not triggered, compared with the last
 *   run that evaluated (errors do not count as a state; before the first evaluation the alert counts
 *   as not triggered, so a first triggered run mails and a first ok run does not);
 * - `all`: on every evaluated run (the condition only sets the subject).
 * Errors (`alert_error`, `query_error`, `internal_*`) mail `error_emails` when set, else the regular
 * recipients; with `changed` only when the previous run was not already an error. `cancelled` never mails.
 * @param previous the status of the alert's previous run, undefined for the first
 * @param lastEvaluated the status of the last run that evaluated (`ok` or `alert_triggered`), if any
 */
export function decideAlertMail(
  emailCondition: EmailCondition,
  status: SqlAlertResultStatus,
  previous: SqlAlertResultStatus | undefined,
  lastEvaluated: 'ok' | 'alert_triggered' | undefined,
  recipients: AlertRecipients,
): AlertMailDecision {
  if (status === 'cancelled') return { send: false };
  if (ERROR_RESULT_STATUSES.includes(status)) {
    if (emailCondition === 'changed' && previous !== undefined && ERROR_RESULT_STATUSES.includes(previous)) return { send: false };
    if (recipients.hasErrorEmails) return { send: true, audience: 'errors', reason: 'error' };
    return recipients.hasRegular ? { send: true, audience: 'regular', reason: 'error' } : { send: false };
  }
  if (!recipients.hasRegular) return { send: false };
  const triggered = status === 'alert_triggered';
  switch (emailCondition) {
    case 'triggered':
      return triggered ? { send: true, audience: 'regular', reason: 'triggered' } : { send: false };
    case 'all':
      return { send: true, audience: 'regular', reason: triggered ? 'triggered' : 'ok' };
    case 'changed': {
      const wasTriggered = lastEvaluated === 'alert_triggered';
      if (triggered === wasTriggered) return { send: false };
      return { send: true, audience: 'regular', reason: triggered ? 'triggered' : 'resolved' };
    }
  }
}
