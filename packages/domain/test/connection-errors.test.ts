import { describe, expect, it } from '@jest/globals';
import { DATABASE_RETRY_AFTER_SECONDS, UnavailableError, ValidationError, isConnectionFailure, translatePgError } from '../src/index.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isConnectionFailure', () => {
  it('recognises an unreachable or vanishing database', () => {
    for (const err of [
      withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      withCode('ECONNRESET'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('57P03', 'the database system is starting up'),
      withCode('08006'),
      withCode('53300', 'sorry, too many clients already'),
      new Error('Connection terminated unexpectedly'),
      new Error('select 1 - Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' }),
      Object.assign(new AggregateError([withCode('ECONNREFUSED')], 'all failed')),
      new Error('wrapped', { cause: withCode('ECONNREFUSED') }),
    ])
      expect(isConnectionFailure(err)).toBe(true);
  });

  it('leaves statement errors alone', () => {
    for (const err of [
      withCode('23505'),
      withCode('57014', 'canceling statement due to statement timeout'),
      withCode('42601'),
      new Error('Connection terminated unexpectedly? no: a value'),
      null,
      'text',
      new ValidationError('bad'),
    ]) {
      expect(isConnectionFailure(err)).toBe(false);
    }
  });
});

describe('translatePgError', () => {
  it('maps connection failures to a 503 with a retry hint', () => {
    const mapped = translatePgError(withCode('ECONNREFUSED')) as UnavailableError;
    expect(mapped).toBeInstanceOf(UnavailableError);
    expect(mapped).toMatchObject({ status: 503, code: 'database_unavailable', retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS });
    expect((translatePgError(withCode('57P01')) as UnavailableError).code).toBe('database_unavailable');
    // a cancelled statement is not an outage
    expect((translatePgError(withCode('57014')) as UnavailableError).code).toBe('unavailable');
  });
});
