import { describe, expect, it } from '@jest/globals';
import {
  fromLocal,
  lastOccurrenceAtOrBefore,
  nextOccurrence,
  occurrencesBetween,
  parseRunSchedule,
  parseSchedule,
  toLocal,
  type Recurrence,
} from '../../src/scheduling/index.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;
const at = (text: string) => new Date(text);

/**
 * Replays a clock that ticks every minute from `from` to `to` (an injected clock: no waiting), the way
 * the firing engine uses the functions: an item is due when `nextDue <= now`; it then fires once for
 * the last due time at or before now and moves `nextDue` past now. Minutes in `down` are skipped (the
 * platform was down).
 */
function replay(rec: Recurrence, tz: string, from: string, to: string, down?: [string, string]): string[] {
  const fired: string[] = [];
  const end = at(to).getTime();
  let nextDue = nextOccurrence(rec, at(from), tz);
  for (let now = at(from).getTime() + 60_000; now <= end; now += 60_000) {
    if (down && now >= at(down[0]).getTime() && now < at(down[1]).getTime()) continue;
    const clock = new Date(now);
    if (nextDue && nextDue.getTime() <= now) {
      fired.push(iso(lastOccurrenceAtOrBefore(rec, clock, tz))!);
      nextDue = nextOccurrence(rec, clock, tz);
    }
  }
  return fired;
}

describe('wall time ↔ instant', () => {
  it.each([
    // [zone, wall, instant]  ordinary, spring-forward gap (→ first minute after it), fall-back (→ earlier pass)
    ['Europe/Berlin', '2026-03-28T02:30', '2026-03-28T01:30:00.000Z'],
    ['Europe/Berlin', '2026-03-29T02:30', '2026-03-29T01:00:00.000Z'],
    ['Europe/Berlin', '2026-03-29T02:00', '2026-03-29T01:00:00.000Z'],
    ['Europe/Berlin', '2026-03-29T02:59', '2026-03-29T01:00:00.000Z'],
    ['Europe/Berlin', '2026-03-29T03:00', '2026-03-29T01:00:00.000Z'],
    ['Europe/Berlin', '2026-10-25T02:30', '2026-10-25T00:30:00.000Z'],
    ['Europe/Berlin', '2026-10-25T03:00', '2026-10-25T02:00:00.000Z'],
    ['America/New_York', '2026-03-08T02:30', '2026-03-08T07:00:00.000Z'],
    ['America/New_York', '2026-11-01T01:30', '2026-11-01T05:30:00.000Z'],
    ['America/New_York', '2026-11-01T02:30', '2026-11-01T07:30:00.000Z'],
    ['Australia/Sydney', '2026-10-04T02:30', '2026-10-03T16:00:00.000Z'],
    ['Australia/Sydney', '2026-04-05T02:30', '2026-04-04T15:30:00.000Z'],
    ['Australia/Lord_Howe', '2026-10-04T02:15', '2026-10-03T15:30:00.000Z'],
    ['Asia/Kolkata', '2026-03-29T02:30', '2026-03-28T21:00:00.000Z'],
    ['UTC', '2026-03-29T02:30', '2026-03-29T02:30:00.000Z'],
  ])('%s %s → %s', (tz, wall, instant) => {
    const [date, time] = wall.split('T') as [string, string];
    const [year, month, day] = date.split('-').map(Number) as [number, number, number];
    const [hour, minute] = time.split(':').map(Number) as [number, number];
    expect(iso(fromLocal({ year, month, day, hour, minute }, tz))).toBe(instant);
  });

  it('reads wall time back', () => {
    expect(toLocal(at('2026-10-25T01:30:00Z'), 'Europe/Berlin')).toEqual({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 });
    expect(toLocal(at('2026-03-08T07:00:00Z'), 'America/New_York')).toEqual({ year: 2026, month: 3, day: 8, hour: 3, minute: 0 });
  });
});

describe('next due time around DST', () => {
  it('Europe/Berlin spring forward: 02:30 fires once, at 03:00', () => {
    const rec = parseSchedule('daily;02:30');
    expect(occurrencesBetween(rec, at('2026-03-27T12:00Z'), at('2026-03-31T00:00Z'), 'Europe/Berlin').map(iso)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 02:30 does not exist: 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('Europe/Berlin fall back: 02:30 fires once, at its first pass', () => {
    const rec = parseSchedule('daily;02:30');
    expect(occurrencesBetween(rec, at('2026-10-23T12:00Z'), at('2026-10-27T00:00Z'), 'Europe/Berlin').map(iso)).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // first 02:30 (CEST); the second (01:30Z, CET) does not fire
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
    // asked right after the first pass, the repeated hour does not fire again
    expect(iso(nextOccurrence(rec, at('2026-10-25T00:30Z'), 'Europe/Berlin'))).toBe('2026-10-26T01:30:00.000Z');
    expect(iso(nextOccurrence(rec, at('2026-10-25T01:15Z'), 'Europe/Berlin'))).toBe('2026-10-26T01:30:00.000Z');
  });

  it('America/New_York spring forward and fall back (12-hour times)', () => {
    expect(occurrencesBetween(parseSchedule('daily;2:30am'), at('2026-03-07T00:00Z'), at('2026-03-10T00:00Z'), 'America/New_York').map(iso)).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
    expect(occurrencesBetween(parseSchedule('daily;1:30am'), at('2026-10-31T00:00Z'), at('2026-11-03T00:00Z'), 'America/New_York').map(iso)).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('two times that land on the same instant in a gap fire once', () => {
    const rec = parseSchedule('daily;02:00,02:30,03:00');
    expect(occurrencesBetween(rec, at('2026-03-28T23:00Z'), at('2026-03-29T23:00Z'), 'Europe/Berlin').map(iso)).toEqual(['2026-03-29T01:00:00.000Z']);
  });

  it('a minute-by-minute replay with an injected clock fires once per due time across both transitions', () => {
    const rec = parseSchedule('daily;02:30');
    expect(replay(rec, 'Europe/Berlin', '2026-03-28T00:00Z', '2026-03-30T12:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    expect(replay(rec, 'Europe/Berlin', '2026-10-24T00:00Z', '2026-10-26T12:00Z')).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
    expect(replay(parseSchedule('daily;1:30am'), 'America/New_York', '2026-10-31T00:00Z', '2026-11-02T12:00Z')).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('due times missed while the platform was down fire once, for the latest one', () => {
    const rec = parseSchedule('daily;06:00,18:00');
    // down from Monday 05:00 to Wednesday 07:00 UTC: four due times missed → one catch-up run
    expect(replay(rec, 'UTC', '2026-03-01T00:00Z', '2026-03-04T20:00Z', ['2026-03-02T05:00Z', '2026-03-04T07:00Z'])).toEqual([
      '2026-03-01T06:00:00.000Z',
      '2026-03-01T18:00:00.000Z',
      '2026-03-04T06:00:00.000Z', // the catch-up (stands for 03-02 06:00 … 03-04 06:00)
      '2026-03-04T18:00:00.000Z',
    ]);
  });
});

describe('weekly, monthly and every', () => {
  it('weekly counts 0 as Monday', () => {
    // 2026-03-02 is a Monday
    expect(occurrencesBetween(parseSchedule('weekly;0,2,4;06:00'), at('2026-03-01T00:00Z'), at('2026-03-09T00:00Z'), 'UTC').map(iso)).toEqual([
      '2026-03-02T06:00:00.000Z',
      '2026-03-04T06:00:00.000Z',
      '2026-03-06T06:00:00.000Z',
    ]);
    expect(iso(nextOccurrence(parseSchedule('weekly;6;23:00'), at('2026-03-01T00:00Z'), 'Asia/Tokyo'))).toBe('2026-03-01T14:00:00.000Z');
  });

  it('monthly: days past the end of a month mean its last day, once', () => {
    expect(occurrencesBetween(parseSchedule('monthly;30,31;12:00'), at('2026-01-31T13:00Z'), at('2026-05-01T00:00Z'), 'UTC').map(iso)).toEqual([
      '2026-02-28T12:00:00.000Z',
      '2026-03-30T12:00:00.000Z',
      '2026-03-31T12:00:00.000Z',
      '2026-04-30T12:00:00.000Z',
    ]);
    expect(iso(nextOccurrence(parseSchedule('monthly;1,15;06:00'), at('2026-03-15T04:59Z'), 'Europe/Berlin'))).toBe('2026-03-15T05:00:00.000Z');
  });

  it('every: aligned multiples of the interval, independent of the zone', () => {
    const rec = parseRunSchedule({ runSchedule: 'every', runAt: null, runEvery: 10 });
    expect(iso(nextOccurrence(rec, at('2026-03-29T00:53:20Z'), 'Europe/Berlin'))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(nextOccurrence(rec, at('2026-03-29T01:00:00Z'), 'Europe/Berlin'))).toBe('2026-03-29T01:10:00.000Z');
    expect(iso(lastOccurrenceAtOrBefore(rec, at('2026-03-29T01:09:59Z'), 'Europe/Berlin'))).toBe('2026-03-29T01:00:00.000Z');
  });

  it('disabled never fires', () => {
    expect(nextOccurrence({ kind: 'disabled' }, at('2026-03-01T00:00Z'), 'UTC')).toBeNull();
    expect(lastOccurrenceAtOrBefore({ kind: 'disabled' }, at('2026-03-01T00:00Z'), 'UTC')).toBeNull();
  });

  it('last occurrence at or before an instant', () => {
    const rec = parseSchedule('daily;09:00');
    expect(iso(lastOccurrenceAtOrBefore(rec, at('2026-03-10T08:59Z'), 'UTC'))).toBe('2026-03-09T09:00:00.000Z');
    expect(iso(lastOccurrenceAtOrBefore(rec, at('2026-03-10T09:00Z'), 'UTC'))).toBe('2026-03-10T09:00:00.000Z');
    expect(iso(lastOccurrenceAtOrBefore(parseSchedule('daily;02:30'), at('2026-03-29T01:30Z'), 'Europe/Berlin'))).toBe('2026-03-29T01:00:00.000Z');
  });
});
