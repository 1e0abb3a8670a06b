import { compile, compileMy, def, sel, compileError } from './helpers.js';

describe('list filters (input, dropdown, ad hoc)', () => {
  it('ad hoc variables are multi-select TEXT filters: single value → =, several → IN', () => {
    expect(compile('SELECT * FROM t WHERE {name=name_filter}', { parameters: { filters: [sel('name_filter', 'a')] } })).toEqual({
      sql: 'SELECT * FROM t WHERE ((name) = $1)',
      values: ['a'],
      snippetNames: [],
      variables: ['name_filter'],
    });
    const r = compile('WHERE {name=f}', { parameters: { filters: [sel('f', 'a', 'b')] } });
    expect(r.sql).toBe('WHERE ((name) IN ($1, $2))');
    expect(r.values).toEqual(['a', 'b']);
    const m = compileMy('WHERE {name=f}', { parameters: { filters: [sel('f', 'a', 'b')] } });
    expect(m.sql).toBe('WHERE ((name) IN (?, ?))');
    expect(m.values).toEqual(['a', 'b']);
  });

  it('empty selection (explicit [] or no input) renders (1=1); [] stops the default fallback', () => {
    expect(compile('WHERE {name=f}').sql).toBe('WHERE (1=1)');
    const filters = [def('f', 'input_multi', 'TEXT', { defaultValues: ['d'] })];
    expect(compile('WHERE {name=f}', { filters }).values).toEqual(['d']);
    expect(compile('WHERE {name=f}', { filters, parameters: { filters: [sel('f')] } }).sql).toBe('WHERE (1=1)');
  });

  it('NULL in a selection adds an IS NULL branch; only NULL → IS NULL', () => {
    expect(compile('{x=f}', { parameters: { filters: [sel('f', null)] } })).toMatchObject({ sql: '((x) IS NULL)', values: [] });
    expect(compile('{x=f}', { parameters: { filters: [sel('f', 'a', null)] } })).toMatchObject({ sql: '((x) = $1 OR (x) IS NULL)', values: ['a'] });
    expect(compileMy('{x=f}', { parameters: { filters: [sel('f', null, 'a', 'b')] } })).toMatchObject({
      sql: '((x) IN (?, ?) OR (x) IS NULL)',
      values: ['a', 'b'],
    });
  });

  it('removes duplicates, keeps order, stringifies numbers/booleans for TEXT', () => {
    expect(compile('{x=f}', { parameters: { filters: [sel('f', 'b', 'a', 'b', 3, true)] } }).values).toEqual(['b', 'a', '3', 'true']);
  });

  it('NUMBER value type binds numerics (canonical decimal strings)', () => {
    const filters = [def('n', 'input_multi', 'NUMBER')];
    expect(compile('{amount=n}', { filters, parameters: { filters: [sel('n', 1, '2.50', '1e3', '-0.0')] } })).toMatchObject({
      sql: '((amount) IN ($1::numeric, $2::numeric, $3::numeric, $4::numeric))',
      values: ['1', '2.5', '1000', '0'],
    });
    expect(compileMy('{amount=n}', { filters, parameters: { filters: [sel('n', 7)] } })).toMatchObject({
      sql: '((amount) = CAST(? AS DECIMAL(65,30)))',
      values: ['7'],
    });
    expect(compileError(() => compile('{a=n}', { filters, parameters: { filters: [sel('n', 'abc')] } })).detail).toMatch(
      /Filter 'n': "abc" is not a NUMBER \(at line 1, column 1\)/,
    );
    expect(compileError(() => compileMy('{a=n}', { filters, parameters: { filters: [sel('n', '1e40')] } })).detail).toMatch(/out of the supported range/);
  });

  it('single-select filters reject several values; dropdown validValues are enforced', () => {
    const filters = [def('s', 'dropdown', 'TEXT', { validValues: ['x', 'y'] })];
    expect(compileError(() => compile('{a=s}', { filters, parameters: { filters: [sel('s', 'x', 'y')] } })).detail).toMatch(/accepts one value, got 2/);
    expect(compileError(() => compile('{a=s}', { filters, parameters: { filters: [sel('s', 'z')] } })).detail).toMatch(
      /"z" is not one of the filter's options/,
    );
    expect(compile('{a=s}', { filters, parameters: { filters: [sel('s', 'y')] } }).values).toEqual(['y']);
  });

  it('required filters need a value', () => {
    const filters = [def('r', 'input', 'TEXT', { required: true })];
    expect(compileError(() => compile('{a=r}', { filters })).detail).toMatch(/Filter 'r': a value is required/);
  });

  it('long lists: one array bind (PostgreSQL) / OR-joined IN chunks (MySQL)', () => {
    const values = Array.from({ length: 1001 }, (_, i) => `v${i}`);
    const pg = compile('{x=f}', { parameters: { filters: [sel('f', ...values)] } });
    expect(pg.sql).toBe('((x) = ANY($1))');
    expect(pg.values).toEqual([values]);
    const num = compile('{x=f}', { filters: [def('f', 'input_multi', 'NUMBER')], parameters: { filters: [sel('f', ...values.map((_, i) => i))] } });
    expect(num.sql).toBe('((x) = ANY($1::numeric[]))');
    const my = compileMy('{x=f}', { parameters: { filters: [sel('f', ...values)] } });
    expect(my.sql).toBe(`((x) IN (${Array(1000).fill('?').join(', ')}) OR (x) IN (?))`);
    expect(my.values).toHaveLength(1001);
  });

  it('value selectors: count, selected, min, max, values, value', () => {
    const p = { parameters: { filters: [sel('f', '10', '9', '100'), sel('t', 'b', 'a', 'c'), sel('one', 'x')] }, filters: [def('one', 'input')] };
    expect(compile('SELECT {f.count}, {f.selected}, {g.selected}, {g.count}', p).sql).toBe('SELECT 3, TRUE, FALSE, 0');
    expect(compile('SELECT {f.min}, {f.max}, {t.min}, {t.max}', p)).toMatchObject({
      sql: 'SELECT $1::text, $2::text, $3::text, $4::text',
      values: ['9', '100', 'a', 'c'],
    });
    expect(compile('WHERE x IN ({t.values}) OR y IN ({g.values})', p)).toMatchObject({
      sql: 'WHERE x IN ($1, $2, $3) OR y IN (NULL)',
      values: ['b', 'a', 'c'],
    });
    expect(compile('SELECT {one.value}, {one}', p)).toMatchObject({ sql: 'SELECT $1::text, $2::text', values: ['x', 'x'] });
    expect(compileMy('SELECT {one.value}, {g.min}', p)).toMatchObject({ sql: 'SELECT ?, NULL', values: ['x'] });
    const n = compile('SELECT {n.min}, {n.max}', { filters: [def('n', 'input_multi', 'NUMBER')], parameters: { filters: [sel('n', 5, -2.5, 30)] } });
    expect(n).toMatchObject({ sql: 'SELECT $1::numeric, $2::numeric', values: ['-2.5', '30'] });
    expect(compileError(() => compile('SELECT {f.value}', p)).detail).toMatch(/\.value is only available for single-select filters/);
    expect(compileError(() => compile('SELECT {f}', p)).detail).toMatch(/\{f\} means \{f\.value\}/);
    expect(compileError(() => compile('SELECT {f.bogus}', p)).detail).toMatch(/unknown selector '\.bogus'/);
  });
});

describe('checkbox and Yes/No/All', () => {
  const filters = [def('cb', 'checkbox', 'BOOLEAN'), def('yn', 'checkbox_two_way', 'BOOLEAN')];
  it('checkbox always has a value: [] and [false] → FALSE, [true] → TRUE', () => {
    expect(compile('{enabled=cb}', { filters })).toMatchObject({ sql: '((enabled) = $1::boolean)', values: [false] });
    expect(compile('{enabled=cb}', { filters, parameters: { filters: [sel('cb', true)] } })).toMatchObject({ values: [true] });
    expect(compileMy('{enabled=cb}', { filters, parameters: { filters: [sel('cb', 'true')] } })).toMatchObject({ sql: '((enabled) = ?)', values: [1] });
    expect(compile('SELECT {cb.value}', { filters, parameters: { filters: [sel('cb', false)] } })).toMatchObject({
      sql: 'SELECT $1::boolean',
      values: [false],
    });
    expect(compileError(() => compile('{e=cb}', { filters, parameters: { filters: [sel('cb', 'yes')] } })).detail).toMatch(/not a BOOLEAN/);
    expect(compileError(() => compile('{e=cb}', { filters, parameters: { filters: [sel('cb', null)] } })).detail).toMatch(/not null/);
  });
  it('Yes/No/All: All ≡ no selection → (1=1), .value NULL', () => {
    expect(compile('{enabled=yn}', { filters }).sql).toBe('(1=1)');
    expect(compile('SELECT {yn.value}', { filters }).sql).toBe('SELECT NULL');
    expect(compile('{enabled=yn}', { filters, parameters: { filters: [sel('yn', false)] } })).toMatchObject({
      sql: '((enabled) = $1::boolean)',
      values: [false],
    });
    expect(compileMy('{enabled=yn}', { filters, parameters: { filters: [sel('yn', true)] } })).toMatchObject({ sql: '((enabled) = ?)', values: [1] });
    expect(compileError(() => compile('SELECT {yn.count}', { filters })).detail).toMatch(/has no '\.count' value/);
  });
});

describe('single date, time and date-time filters', () => {
  const filters = [def('d', 'date', 'DATE'), def('t', 'time', 'TIME'), def('dt', 'date_time', 'DATE_TIME')];
  it('date', () => {
    expect(compile('{d_col=d}', { filters, parameters: { filters: [sel('d', '2023-04-12')] } })).toMatchObject({
      sql: '((d_col) = $1::date)',
      values: ['2023-04-12'],
    });
    expect(compileMy('{d_col=d}', { filters, parameters: { filters: [sel('d', '2023-04-12')] } }).sql).toBe('((d_col) = CAST(? AS DATE))');
    expect(compile('{d_col=d}', { filters }).sql).toBe('(1=1)');
    expect(compileError(() => compile('{c=d}', { filters, parameters: { filters: [sel('d', '2023-02-30')] } })).detail).toMatch(/is not a DATE/);
  });
  it('time: HH:MM accepted, canonical HH:MM:SS; .selected / .value', () => {
    expect(compile('{log_time=t}', { filters, parameters: { filters: [sel('t', '13:45')] } })).toMatchObject({
      sql: '((log_time) = $1::time)',
      values: ['13:45:00'],
    });
    expect(compileMy('{log_time=t}', { filters, parameters: { filters: [sel('t', '13:45:31')] } })).toMatchObject({
      sql: '((log_time) = CAST(? AS TIME))',
      values: ['13:45:31'],
    });
    expect(compile('CASE WHEN {t.selected} = TRUE THEN {starttime=t} ELSE x END', { filters }).sql).toBe('CASE WHEN FALSE = TRUE THEN (1=1) ELSE x END');
    expect(compile('SELECT {t.value}', { filters }).sql).toBe('SELECT NULL');
    expect(compileError(() => compile('{c=t}', { filters, parameters: { filters: [sel('t', '24:00:00')] } })).detail).toMatch(/is not a TIME/);
  });
  it('date_time: local wall time in the operating zone → data-zone wall time, untyped in conditions', () => {
    const p = { filters, parameters: { filters: [sel('dt', '2023-04-12T10:00:00')] } };
    expect(compile('{ts=dt}', p)).toMatchObject({ sql: '((ts) = $1)', values: ['2023-04-12T10:00:00'] });
    expect(compile('{ts=dt}', { ...p, dashboardTimeZone: 'Europe/Berlin' }).values).toEqual(['2023-04-12T08:00:00']);
    expect(compileMy('SELECT {dt.value}', { filters, parameters: { filters: [sel('dt', 1681293600)] } })).toMatchObject({
      sql: 'SELECT CAST(? AS DATETIME)',
      values: ['2023-04-12 10:00:00'],
    });
    expect(compile('SELECT {dt.value}', { filters, parameters: { filters: [sel('dt', '1681293600')] } })).toMatchObject({ sql: 'SELECT $1::timestamp' });
  });
});

describe('parameter syntax', () => {
  it('bracket form copies the expression verbatim in parentheses, simplified form takes qualified/quoted names', () => {
    const p = { parameters: { filters: [sel('f', 'a')] } };
    expect(compile("{[lower(t.name) || 'x]']=f}", p).sql).toBe("((lower(t.name) || 'x]') = $1)");
    expect(compile('{ t.name = f }', p).sql).toBe('((t.name) = $1)');
    expect(compile('{"My Table"."Col"=f}', p).sql).toBe('(("My Table"."Col") = $1)');
    expect(compileMy('{`t`.`c`=f}', p).sql).toBe('((`t`.`c`) = ?)');
    expect(compile('{\n  [a + b]\n  =\n  f\n}', p).sql).toBe('((a + b) = $1)');
  });

  it('leaves non-parameter braces, strings, quoted identifiers, dollar quotes and comments untouched', () => {
    const sql = [
      "SELECT '{x=f}', '{1,2}'::int[], \"{x=f}\", $tag${x=f}$tag$, $${x=f}$$, E'\\'{x=f}'",
      '-- {x=f}',
      '/* {x=f} /* nested {x=f} */ still {x=f} */',
      'FROM t WHERE {x=f} AND j = \'{"a": {"b": 1}}\'::jsonb',
    ].join('\n');
    const r = compile(sql, { parameters: { filters: [sel('f', 'v')] } });
    expect(r.sql).toBe(sql.replace('WHERE {x=f}', 'WHERE ((x) = $1)'));
    expect(r.values).toEqual(['v']);
    const my = "SELECT '{x=f}', 'it\\'s {x=f}', \"{x=f}\", `{x=f}` # {x=f}\n, {d '2020-01-01'}, {fn NOW()} FROM t WHERE {x=f}";
    expect(compileMy(my, { parameters: { filters: [sel('f', 'v')] } }).sql).toBe(my.replace('WHERE {x=f}', 'WHERE ((x) = ?)'));
  });

  it('malformed left-hand side of a known variable is an error naming the position', () => {
    const e = compileError(() => compile('SELECT\n  {x::date:aggregation}'));
    expect(e.status).toBe(422);
    expect(e.code).toBe('query_compile_error');
    expect(e.detail).toBe(
      'Invalid parameter {x::date:aggregation}: without brackets the left-hand side must be just a column name; write {[x::date]:aggregation} (at line 2, column 3)',
    );
    expect(e.meta).toMatchObject({ position: { offset: 9, line: 2, column: 3 } });
  });

  it('wrong form for the filter type', () => {
    expect(compileError(() => compile('{x:my_text}')).detail).toMatch(/filter 'my_text' \(adhoc\) cannot be used as a transformation/);
    expect(compileError(() => compile('{x=aggregation}')).detail).toMatch(/'aggregation' \(aggregation\) cannot be used as a condition/);
    expect(compileError(() => compile('{x=week}')).detail).toMatch(/cannot be used as a condition/);
    expect(compileError(() => compile('{x=f.next}')).detail).toMatch(/\.next\/\.previous are for range filters/);
    expect(compileError(() => compile('{f.next}')).detail).toMatch(/condition selector/);
    expect(compileError(() => compile('SELECT {timerange}')).detail).toMatch(/range filters have no single value/);
  });

  it('bind placeholders written in the query text are rejected (outside strings)', () => {
    expect(compileError(() => compile('SELECT $1')).detail).toMatch(/Positional parameters like \$1 are not allowed .* \(at line 1, column 8\)/);
    expect(compile("SELECT '$1', a$1, $$ $1 $$").sql).toBe("SELECT '$1', a$1, $$ $1 $$");
    expect(compileError(() => compileMy('SELECT ?')).detail).toMatch(/Placeholders '\?' are not allowed/);
    expect(compileMy("SELECT '?', `?` -- ?").sql).toBe("SELECT '?', `?` -- ?");
  });

  it('PostgreSQL reuses the placeholders of a parameter repeated verbatim; MySQL binds per occurrence', () => {
    const p = { filters: [def('o', 'input')], parameters: { filters: [sel('o', 'x')] } };
    expect(compile('SELECT {o.value} GROUP BY {o.value}', p)).toMatchObject({ sql: 'SELECT $1::text GROUP BY $1::text', values: ['x'] });
    expect(compileMy('SELECT {o.value} GROUP BY {o.value}', p)).toMatchObject({ sql: 'SELECT ? GROUP BY ?', values: ['x', 'x'] });
  });

  it('nested parameters inside a bracket expression are compiled', () => {
    const r = compile('{[COALESCE(a, {o.value})]=f}', { filters: [def('o', 'input')], parameters: { filters: [sel('o', 'x'), sel('f', 'y')] } });
    expect(r).toMatchObject({ sql: '((COALESCE(a, $1::text)) = $2)', values: ['x', 'y'] });
    expect(r.variables).toEqual(['o', 'f']);
  });

  it('variable names may contain "-" and digits on the right-hand side', () => {
    expect(compile('{x=my-filter-2}', { parameters: { filters: [sel('my-filter-2', 'a')] } })).toMatchObject({ sql: '((x) = $1)', variables: ['my-filter-2'] });
  });

  it('input validation: NUL, lone surrogates, duplicate filter inputs', () => {
    expect(compileError(() => compile('{x=f}', { parameters: { filters: [sel('f', 'a\u0000b')] } })).detail).toMatch(/NUL/);
    expect(compileError(() => compile('{x=f}', { parameters: { filters: [sel('f', 'a\ud800b')] } })).detail).toMatch(/well-formed/);
    expect(compileError(() => compile('{x=f}', { parameters: { filters: [sel('f', 'a'), sel('f', 'b')] } })).detail).toMatch(/more than once/);
  });
});

describe('limits', () => {
  it('at most 10,000 distinct values per filter', () => {
    const many = Array.from({ length: 10_001 }, (_, i) => i);
    expect(compileError(() => compile('{x=f}', { parameters: { filters: [sel('f', ...many)] } })).detail).toMatch(/at most 10000 distinct values/);
    expect(compile('{x=f}', { parameters: { filters: [sel('f', ...many.slice(1), 1, 1)] } }).values[0]).toHaveLength(10_000);
  });
});
