import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../src/errors.js';
import {
  ALERT_ATTACHMENT_FORMATS,
  SCHEDULE_ATTACHMENT_FORMATS,
  parseAttachAs,
  parseRunSchedule,
  parseSchedule,
  parseTimeOfDay,
  type Recurrence,
} from '../../src/scheduling/index.js';
import { parseEmailList } from '../../src/mail/email-list.js';

const t = (hour: number, minute: number) => ({ hour, minute });

function errorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('dashboard schedule grammar (§4.8)', () => {
  const valid: Array<[string, Recurrence]> = [
    // every example of the contract
    ['disabled', { kind: 'disabled' }],
    ['daily;00:00', { kind: 'daily', times: [t(0, 0)] }],
    ['daily;9:00am,9:00pm', { kind: 'daily', times: [t(9, 0), t(21, 0)] }],
    ['weekly;0,2,4;06:00', { kind: 'weekly', days: [0, 2, 4], times: [t(6, 0)] }],
    ['monthly;1,15;06:00', { kind: 'monthly', days: [1, 15], times: [t(6, 0)] }],
    // 24-hour and 12-hour forms, mixed
    ['daily;06:00', { kind: 'daily', times: [t(6, 0)] }],
    ['daily;6:05', { kind: 'daily', times: [t(6, 5)] }],
    ['daily;23:59', { kind: 'daily', times: [t(23, 59)] }],
    ['daily;12:00am', { kind: 'daily', times: [t(0, 0)] }],
    ['daily;12:30pm', { kind: 'daily', times: [t(12, 30)] }],
    ['daily;12:01AM,11:59PM', { kind: 'daily', times: [t(0, 1), t(23, 59)] }],
    ['daily;9am', { kind: 'daily', times: [t(9, 0)] }],
    ['daily;9:15 pm', { kind: 'daily', times: [t(21, 15)] }],
    ['daily;9:15 p.m.', { kind: 'daily', times: [t(21, 15)] }],
    ['daily;18:00,06:00,18:00', { kind: 'daily', times: [t(6, 0), t(18, 0)] }],
    ['weekly;6;23:00,7:30am', { kind: 'weekly', days: [6], times: [t(7, 30), t(23, 0)] }],
    ['weekly;4,0,4;06:00', { kind: 'weekly', days: [0, 4], times: [t(6, 0)] }],
    ['monthly;31;12:00', { kind: 'monthly', days: [31], times: [t(12, 0)] }],
    // blanks and case are forgiven
    [' Weekly ; 0 , 1 ; 06:00 ', { kind: 'weekly', days: [0, 1], times: [t(6, 0)] }],
    ['DISABLED', { kind: 'disabled' }],
  ];
  it.each(valid)('parses %j', (text, expected) => {
    expect(parseSchedule(text)).toEqual(expected);
  });

  const invalid: Array<[string, number | undefined, RegExp]> = [
    ['', undefined, /empty; expected one of disabled, daily;06:00/],
    ['   ', undefined, /empty/],
    ['hourly;06:00', 1, /part 1 "hourly" is not a frequency; expected disabled, daily, weekly or monthly/],
    ['06:00', 1, /part 1 "06:00" is not a frequency/],
    ['disabled;06:00', 2, /"disabled" takes nothing after it; part 2 "06:00"/],
    ['daily', 2, /"daily" needs 1 part after it/],
    ['daily;', 2, /part 2, item 1 is empty; expected a time of day/],
    ['daily;06:00;07:00', 3, /part 3 "07:00" is one too many/],
    ['daily;25:00', 2, /time of day "25:00" \(part 2, item 1\): the hour of a 24-hour time must be 0 to 23/],
    ['daily;06:00,24:00', 2, /"24:00" \(part 2, item 2\)/],
    ['daily;06:60', 2, /"06:60" \(part 2, item 1\): minutes must be 00 to 59/],
    ['daily;13:00pm', 2, /"13:00pm" \(part 2, item 1\): the hour of a 12-hour time must be 1 to 12/],
    ['daily;0:30am', 2, /the hour of a 12-hour time must be 1 to 12/],
    ['daily;6', 2, /"6" \(part 2, item 1\): expected a 24-hour time such as "06:00" or a 12-hour time such as "9:00am"/],
    ['daily;06:00,,07:00', 2, /part 2, item 2 is empty/],
    ['daily;noon', 2, /"noon" \(part 2, item 1\)/],
    ['weekly;06:00', 2, /part 2 "06:00" should be the days of the week, followed by ";" and the times: "weekly;<day>/],
    ['weekly;0,1', 3, /"weekly" needs 2 parts after it separated by ";": "weekly;<day>/],
    ['weekly;7;06:00', 2, /day of week "7" \(part 2, item 1\) must be a whole number from 0 \(Monday\) to 6 \(Sunday\)/],
    ['weekly;0,2,x;06:00', 2, /day of week "x" \(part 2, item 3\)/],
    ['weekly;-1;06:00', 2, /day of week "-1"/],
    ['weekly;1.5;06:00', 2, /day of week "1.5"/],
    ['weekly;0;6pm;7pm', 4, /part 4 "7pm" is one too many/],
    ['weekly;0;25:00', 3, /time of day "25:00" \(part 3, item 1\)/],
    ['monthly;0;06:00', 2, /day of month "0" \(part 2, item 1\) must be a whole number from 1 to 31/],
    ['monthly;32;06:00', 2, /day of month "32"/],
    ['monthly;1,15', 3, /"monthly" needs 2 parts after it/],
    ['monthly;1;', 3, /part 3, item 1 is empty/],
    [`daily;${Array.from({ length: 97 }, () => '06:00').join(',')}`, 2, /part 2 has 97 items; at most 96/],
    [`daily;${'1'.repeat(3000)}`, undefined, /longer than 2000 characters/],
  ];
  it.each(invalid)('refuses %j with a message that points at the wrong part', (text, part, message) => {
    const err = errorOf(() => parseSchedule(text));
    expect(err.status).toBe(422);
    expect(err.code).toBe('invalid_schedule');
    expect(err.source).toEqual({ pointer: '/data/attributes/schedule' });
    expect(err.detail).toMatch(message);
    expect(err.meta?.part).toBe(part);
  });

  it('quotes the whole schedule in the message', () => {
    expect(errorOf(() => parseSchedule('weekly;0,9;06:00')).detail).toMatch(/^Invalid schedule "weekly;0,9;06:00": day of week "9"/);
  });
});

describe('time of day', () => {
  it.each([
    ['0:00', t(0, 0)],
    ['00:00', t(0, 0)],
    ['7:05', t(7, 5)],
    ['12:00', t(12, 0)],
    ['1:00am', t(1, 0)],
    ['1:00pm', t(13, 0)],
    ['12am', t(0, 0)],
    ['12pm', t(12, 0)],
    ['11:59 PM', t(23, 59)],
  ])('%s', (text, expected) => expect(parseTimeOfDay(text)).toEqual(expected));
  it.each(['', '1', '100:00', '1:0', '1:000', '12:00xm', 'am', '-1:00', '1:00 am pm'])('refuses %j', (text) => {
    expect(parseTimeOfDay(text)).toHaveProperty('error');
  });
});

describe('SQL alert run_schedule (§4.9)', () => {
  it('disabled needs nothing', () => {
    expect(parseRunSchedule({ runSchedule: 'disabled', runAt: null, runEvery: null })).toEqual({ kind: 'disabled' });
    expect(parseRunSchedule({ runSchedule: 'disabled', runAt: 'garbage', runEvery: -4 })).toEqual({ kind: 'disabled' });
  });
  it('at: comma-separated times, 24-hour or am/pm', () => {
    expect(parseRunSchedule({ runSchedule: 'at', runAt: '06:00,18:00', runEvery: null })).toEqual({ kind: 'daily', times: [t(6, 0), t(18, 0)] });
    expect(parseRunSchedule({ runSchedule: 'at', runAt: '9:00am, 9:30PM', runEvery: null })).toEqual({ kind: 'daily', times: [t(9, 0), t(21, 30)] });
  });
  it('every: whole minutes', () => {
    expect(parseRunSchedule({ runSchedule: 'every', runAt: null, runEvery: 10 })).toEqual({ kind: 'every', minutes: 10 });
  });
  it.each([
    [{ runSchedule: 'at' as const, runAt: null, runEvery: null }, '/data/attributes/run_at', /run_at is required when run_schedule is "at"/],
    [{ runSchedule: 'at' as const, runAt: ' ', runEvery: 5 }, '/data/attributes/run_at', /run_at is required/],
    [
      { runSchedule: 'at' as const, runAt: '06:00,25:00', runEvery: null },
      '/data/attributes/run_at',
      /Invalid run_at "06:00,25:00": time of day "25:00" \(item 2\)/,
    ],
    [{ runSchedule: 'at' as const, runAt: '06:00,', runEvery: null }, '/data/attributes/run_at', /item 2 is empty/],
    [{ runSchedule: 'every' as const, runAt: null, runEvery: null }, '/data/attributes/run_every', /run_every is required when run_schedule is "every"/],
    [{ runSchedule: 'every' as const, runAt: '06:00', runEvery: 0 }, '/data/attributes/run_every', /from 1 to 44640/],
    [{ runSchedule: 'every' as const, runAt: null, runEvery: 2.5 }, '/data/attributes/run_every', /whole number/],
    [{ runSchedule: 'every' as const, runAt: null, runEvery: 44_641 }, '/data/attributes/run_every', /44640/],
  ])('refuses %j', (input, pointer, message) => {
    const err = errorOf(() => parseRunSchedule(input));
    expect(err.status).toBe(422);
    expect(err.source?.pointer).toBe(pointer);
    expect(err.detail).toMatch(message);
  });
});

describe('recipient lists', () => {
  it('parses comma-separated addresses', () => {
    expect(parseEmailList('a@example.com, b@example.org,A@example.com', 'emails')).toEqual(['a@example.com', 'b@example.org']);
    expect(parseEmailList('', 'cc_emails')).toEqual([]);
    expect(parseEmailList(null, 'cc_emails')).toEqual([]);
  });
  it.each([
    ['a@example.com,not-an-address', /emails: "not-an-address" \(address 2\) is not a valid e-mail address/],
    ['a@example.com,,b@example.com', /address 2 is empty/],
    ['a@example.com;b@example.com', /"a@example.com;b@example.com" \(address 1\)/],
    [Array.from({ length: 51 }, (_, i) => `u${i}@example.com`).join(','), /at most 50/],
  ])('refuses %j', (text, message) => {
    const err = errorOf(() => parseEmailList(text, 'emails'));
    expect(err.source?.pointer).toBe('/data/attributes/emails');
    expect(err.detail).toMatch(message);
  });
});

describe('attach_as', () => {
  it('is a comma subset of the formats', () => {
    expect(parseAttachAs('csv,pdf,excel', SCHEDULE_ATTACHMENT_FORMATS)).toEqual(['csv', 'pdf', 'excel']);
    expect(parseAttachAs(' dark_inline_png , png,png', SCHEDULE_ATTACHMENT_FORMATS)).toEqual(['dark_inline_png', 'png']);
    expect(parseAttachAs('', SCHEDULE_ATTACHMENT_FORMATS)).toEqual([]);
    expect(parseAttachAs('excel', ALERT_ATTACHMENT_FORMATS)).toEqual(['excel']);
  });
  it.each([
    ['csv,docx', SCHEDULE_ATTACHMENT_FORMATS, /"docx" \(item 2\) is not a format/],
    ['csv,,pdf', SCHEDULE_ATTACHMENT_FORMATS, /"" \(item 2\)/],
    ['PDF', SCHEDULE_ATTACHMENT_FORMATS, /"PDF" \(item 1\)/],
    ['pdf', ALERT_ATTACHMENT_FORMATS, /"pdf" \(item 1\) is not a format; use a comma-separated list of csv, excel/],
  ] as const)('refuses %j', (text, allowed, message) => {
    const err = errorOf(() => parseAttachAs(text, allowed));
    expect(err.source?.pointer).toBe('/data/attributes/attach_as');
    expect(err.detail).toMatch(message);
  });
});
