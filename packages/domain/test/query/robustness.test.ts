// Hostile / random input never produces anything but a result or a QueryCompileError (never a 500).
import { QueryCompileError, parseTimerange, type SqlDialect } from '../../src/query/index.js';
import { compile, def, NOW } from './helpers.js';

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  '{',
  '}',
  '[',
  ']',
  '(',
  ')',
  "'",
  '"',
  '`',
  '$',
  '$$',
  '--',
  '#',
  '/*',
  '*/',
  '=',
  ':',
  '.',
  '?',
  '$1',
  ' ',
  '\n',
  ',',
  '\\',
  'E',
  'x',
  'f',
  'g',
  'timerange',
  'aggregation',
  'tz',
  'week',
  'next',
  'previous',
  'value',
  'values',
  'count',
  'start',
  'end',
  'snip',
  'CLUVIO_USER_EMAIL',
  'dr',
  'tr',
  'cb',
  '~',
  '7_full_day',
];
const VALUES: Array<string | number | boolean | null> = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e300,
  '',
  'a',
  '1e5',
  '2023-01-01',
  '2023-01-01~2023-01-31',
  '13:00~12:00',
  '~',
  '1~',
  'this_hour',
  '999999_day',
  '12:00:00',
  '2023-02-29',
  '1681250400',
  '{x}',
  "'",
];

function check(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof QueryCompileError)) throw e;
    expect(e.status).toBe(422);
  }
}

describe('robustness', () => {
  const filters = [
    def('dr', 'date_range', 'DATE'),
    def('tr', 'time_range', 'TIME'),
    def('cb', 'checkbox', 'BOOLEAN'),
    def('g', 'dropdown', 'NUMBER'),
    def('dt', 'date_time_range', 'DATE_TIME'),
  ];
  const snippets = [
    { name: 'snip', text: '{x=f} [snip2]' },
    { name: 'snip2', text: '${a} {[y]:aggregation}', params: 'a=1' },
  ];

  it.each(['postgres', 'mysql'] as const)('random token soup (%s)', (dialect: SqlDialect) => {
    const r = rng(dialect === 'postgres' ? 1 : 2);
    for (let n = 0; n < 3000; n++) {
      const sql = Array.from({ length: 1 + Math.floor(r() * 25) }, () => TOKENS[Math.floor(r() * TOKENS.length)]).join('');
      const pick = () => VALUES[Math.floor(r() * VALUES.length)]!;
      const selected = () => Array.from({ length: Math.floor(r() * 3) }, pick);
      check(() =>
        compile(sql, {
          dialect,
          filters,
          snippets,
          dashboardTimeZone: r() < 0.5 ? null : 'Europe/Berlin',
          parameters: {
            timerange: r() < 0.5 ? undefined : String(pick()),
            filters: ['f', 'g', 'dr', 'tr', 'cb', 'dt'].map((variable_name) => ({ variable_name, selected_values: selected() })),
          },
        }),
      );
    }
  });

  it('random timerange strings', () => {
    const r = rng(3);
    const alphabet = '0123456789~-_.e fullthisprevousdaywekmnqrty';
    for (let n = 0; n < 5000; n++) {
      const text = Array.from({ length: Math.floor(r() * 20) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
      check(() => parseTimerange(text, NOW, 'Pacific/Chatham'));
    }
    for (const t of ['999999_year', '999999_full_week', '99999_full_quarter', '-99999999999999~', '253402300799~', '~253402300800'])
      check(() => parseTimerange(t, NOW, 'UTC'));
  });

  it('non-scalar and odd-typed inputs are 422s, not crashes', () => {
    const odd: unknown[] = [{}, [], [1], undefined, NaN, Infinity, Symbol.iterator.toString(), 10n.toString()];
    for (const v of odd) {
      check(() =>
        compile('{x=f} {[y]=dr} {z=cb}', {
          filters,
          parameters: {
            filters: [
              { variable_name: 'f', selected_values: [v as never] },
              { variable_name: 'dr', selected_values: [v as never, v as never] },
              { variable_name: 'cb', selected_values: [v as never] },
            ],
          },
        }),
      );
    }
    check(() => compile('SELECT 1', { parameters: { filters: 'x' as never } }));
    check(() => compile('SELECT 1', { parameters: { filters: [null as never] } }));
    check(() => compile('SELECT 1', { parameters: { timerange: 5 as never } }));
    check(() => compile('SELECT 1', { parameters: { aggregation: {} as never } }));
    check(() => compile('SELECT 1', { now: new Date('invalid') }));
    check(() => compile(5 as never));
  });
});
