import { describe, expect, it } from '@jest/globals';
import {
  decideAlertMail,
  evaluateTrigger,
  numericValue,
  statusOfFailedExecution,
  type EmailCondition,
  type SqlAlertResultStatus,
  type TriggerCondition,
} from '../../src/sql-alerts/alert-evaluation.js';
import { decodeResultCursor, encodeResultCursor, parseResultsLimit } from '../../src/sql-alerts/result-cursor.js';
import { BadRequestError } from '../../src/errors.js';

const rows = (rowCount: number, firstValue?: unknown) => ({ rowCount, firstValue });

describe('trigger conditions (first column of the first row)', () => {
  const table: Array<[TriggerCondition, number | null, ReturnType<typeof rows>, SqlAlertResultStatus]> = [
    ['has_results', null, rows(3, 1), 'alert_triggered'],
    ['has_results', null, rows(1, null), 'alert_triggered'],
    ['has_results', null, rows(0), 'ok'],
    ['no_results', null, rows(0), 'alert_triggered'],
    ['no_results', null, rows(2, 'x'), 'ok'],
    ['greater_than', 10, rows(1, 11), 'alert_triggered'],
    ['greater_than', 10, rows(1, 10), 'ok'],
    ['greater_than', 10, rows(5, '10.5'), 'alert_triggered'], // NUMERIC arrives as text
    ['greater_than', 10, rows(1, '9007199254740993'), 'alert_triggered'], // BIGINT as text
    ['lower_than', 0, rows(1, -0.5), 'alert_triggered'],
    ['lower_than', 0, rows(1, 0), 'ok'],
    ['lower_than', 1, rows(1, '1e-3'), 'alert_triggered'],
    ['equal', 42, rows(1, 42), 'alert_triggered'],
    ['equal', 42, rows(1, ' 42.0 '), 'alert_triggered'],
    ['equal', 42, rows(1, 41), 'ok'],
    ['not_equal', 42, rows(1, 41), 'alert_triggered'],
    ['not_equal', 42, rows(1, 42), 'ok'],
    // non-numeric, missing, or nothing to compare: alert_error
    ['greater_than', 10, rows(1, 'ten'), 'alert_error'],
    ['greater_than', 10, rows(1, null), 'alert_error'],
    ['greater_than', 10, rows(1, true), 'alert_error'],
    ['equal', 1, rows(1, { a: 1 }), 'alert_error'],
    ['equal', 1, rows(1, ''), 'alert_error'],
    ['equal', 1, rows(1, '1,5'), 'alert_error'],
    ['lower_than', 10, rows(0), 'alert_error'],
    ['greater_than', 10, rows(1, undefined), 'alert_error'],
    ['greater_than', null, rows(1, 5), 'alert_error'],
  ];
  it.each(table)('%s %p on %j → %s', (condition, value, outcome, status) => {
    const result = evaluateTrigger(condition, value, outcome);
    expect(result.status).toBe(status);
    expect(result.errorMessage === null).toBe(status !== 'alert_error');
  });

  it('says what the value was', () => {
    expect(evaluateTrigger('greater_than', 10, rows(1, 'ten')).errorMessage).toBe(
      'The first column of the first row is "ten", not a number; greater_than needs a numeric result',
    );
    expect(evaluateTrigger('equal', 1, rows(0)).errorMessage).toMatch(/returned no rows/);
  });

  it('numeric values', () => {
    expect(numericValue(3)).toBe(3);
    expect(numericValue('-3.25')).toBe(-3.25);
    expect(numericValue(Number.NaN)).toBeUndefined();
    expect(numericValue('Infinity')).toBeUndefined();
    expect(numericValue('0x10')).toBeUndefined();
    expect(numericValue('1e999')).toBeUndefined();
  });

  it('maps failed executions', () => {
    expect(statusOfFailedExecution('query_error')).toBe('query_error');
    expect(statusOfFailedExecution('timed_out')).toBe('query_error');
    expect(statusOfFailedExecution('cancelled')).toBe('cancelled');
    expect(statusOfFailedExecution('internal_timeout')).toBe('internal_timeout');
    expect(statusOfFailedExecution('internal_error')).toBe('internal_error');
  });
});

describe('email conditions', () => {
  const both = { hasRegular: true, hasErrorEmails: true };
  const regularOnly = { hasRegular: true, hasErrorEmails: false };

  /** Runs a sequence of statuses through the decision, as the runner does, and lists who was mailed. */
  function sequence(condition: EmailCondition, statuses: SqlAlertResultStatus[], recipients = regularOnly): string[] {
    let previous: SqlAlertResultStatus | undefined;
    let lastEvaluated: 'ok' | 'alert_triggered' | undefined;
    return statuses.map((status) => {
      const d = decideAlertMail(condition, status, previous, lastEvaluated, recipients);
      previous = status;
      if (status === 'ok' || status === 'alert_triggered') lastEvaluated = status;
      return d.send ? `${d.audience}:${d.reason}` : '-';
    });
  }

  it('triggered: every run whose condition holds', () => {
    expect(sequence('triggered', ['alert_triggered', 'alert_triggered', 'ok', 'alert_triggered'])).toEqual([
      'regular:triggered',
      'regular:triggered',
      '-',
      'regular:triggered',
    ]);
  });

  it('changed: only when the evaluation flips (three runs)', () => {
    expect(sequence('changed', ['alert_triggered', 'alert_triggered', 'ok'])).toEqual(['regular:triggered', '-', 'regular:resolved']);
    expect(sequence('changed', ['ok', 'ok', 'alert_triggered'])).toEqual(['-', '-', 'regular:triggered']);
    // an error in between is no state: triggered → error → triggered does not mail twice
    expect(sequence('changed', ['alert_triggered', 'query_error', 'alert_triggered', 'query_error', 'query_error'], both)).toEqual([
      'regular:triggered',
      'errors:error',
      '-',
      'errors:error',
      '-',
    ]);
  });

  it('all: every evaluated run, the condition only picks the subject', () => {
    expect(sequence('all', ['ok', 'alert_triggered', 'ok'])).toEqual(['regular:ok', 'regular:triggered', 'regular:ok']);
  });

  it('errors go to error_emails instead of the regular recipients when set', () => {
    expect(sequence('triggered', ['query_error', 'alert_error', 'internal_error', 'internal_timeout'], both)).toEqual([
      'errors:error',
      'errors:error',
      'errors:error',
      'errors:error',
    ]);
    expect(sequence('triggered', ['query_error'], regularOnly)).toEqual(['regular:error']);
    expect(sequence('all', ['query_error'], { hasRegular: false, hasErrorEmails: false })).toEqual(['-']);
    expect(sequence('all', ['cancelled'], both)).toEqual(['-']);
  });

  it('nobody to mail: nothing sent', () => {
    expect(sequence('all', ['alert_triggered'], { hasRegular: false, hasErrorEmails: true })).toEqual(['-']);
  });
});

describe('result cursor', () => {
  it('round-trips and is bound to its alert', () => {
    const c = encodeResultCursor('abcd-efgh-ijkl', 123n);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeResultCursor('abcd-efgh-ijkl', c)).toBe(123n);
    expect(() => decodeResultCursor('zzzz-efgh-ijkl', c)).toThrow(BadRequestError);
  });
  it.each([
    '',
    'x',
    '!!!!',
    Buffer.from('r1.abcd-efgh-ijkl.-4').toString('base64url'),
    Buffer.from("r1.abcd-efgh-ijkl.1'; drop").toString('base64url'),
    'a'.repeat(300),
  ])('refuses %j', (c) => {
    expect(() => decodeResultCursor('abcd-efgh-ijkl', c)).toThrow(BadRequestError);
  });
  it('limit: 1 to 1000, default 100', () => {
    expect(parseResultsLimit(undefined)).toBe(100);
    expect(parseResultsLimit('1')).toBe(1);
    expect(parseResultsLimit('1000')).toBe(1000);
    for (const bad of ['0', '1001', '-1', '1.5', 'ten', '', '99999999999']) expect(() => parseResultsLimit(bad)).toThrow(BadRequestError);
  });
});
