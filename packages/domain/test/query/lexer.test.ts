import { positionAt, isReservedVariableName, mysqlTimeZoneProbeSql, assertMysqlTimeZoneProbe, QueryCompileError } from '../../src/query/index.js';
import { skipNonCode, findClosingBracket, splitTopLevel } from '../../src/query/sql-lexer.js';
import { compile, compileMy, compileError, sel } from './helpers.js';

describe('sql lexer', () => {
  const end = (text: string, dialect: 'postgres' | 'mysql' = 'postgres') => skipNonCode(text, 0, dialect);
  it('skips strings, identifiers, comments and dollar quotes per dialect', () => {
    expect(end("'a''b' rest")).toBe(6);
    expect(end("'a\\' rest")).toBe(4); // PG standard string: backslash is literal
    expect(end("'a\\'b' rest", 'mysql')).toBe(6);
    expect(skipNonCode("E'a\\'b' rest", 1, 'postgres')).toBe(7);
    expect(end('"x""y" rest')).toBe(6);
    expect(end('`x``y` rest', 'mysql')).toBe(6);
    expect(end('$q$ a $ b $q$ rest')).toBe(13);
    expect(end('$q$ a $ b $q$ rest', 'mysql')).toBe(0);
    expect(end('$1')).toBe(0);
    expect(end('/* a /* b */ c */ rest')).toBe(17);
    expect(end('/* a /* b */ c */ rest', 'mysql')).toBe(12);
    expect(end('-- x\nrest')).toBe(4);
    expect(end('--x\nrest', 'mysql')).toBe(0); // MySQL needs a space after --
    expect(end('# x\nrest', 'mysql')).toBe(3);
    expect(end('# x\nrest')).toBe(0); // # is an operator in PostgreSQL
    expect(end("'unterminated")).toBe(13);
  });
  it('finds balanced brackets and splits at top-level commas', () => {
    expect(findClosingBracket("[a[1], ']' , (b)] x", 0, 'postgres')).toBe(16);
    expect(findClosingBracket('[a(]', 0, 'postgres')).toBe(-1);
    expect(splitTopLevel("a, f(b, c), 'd,e', [x,y]", 'postgres').map((p) => p.text.trim())).toEqual(['a', 'f(b, c)', "'d,e'", '[x,y]']);
  });
  it('positions are 1-based lines/columns; CRLF counts as one line break', () => {
    expect(positionAt('ab\r\ncd\nef', 8)).toEqual({ offset: 8, line: 3, column: 2 });
    expect(positionAt('abc', 0)).toEqual({ offset: 0, line: 1, column: 1 });
    const e = compileError(() => compile('SELECT 1\r\nFROM t\r\nWHERE {x=f.oops}'));
    expect(e.meta).toMatchObject({ position: { line: 3, column: 7 } });
  });
});

describe('helpers for other modules', () => {
  it('reserved variable names', () => {
    for (const n of ['timerange', 'aggregation', 'tz', 'week', 'week_sunday', 'second']) expect(isReservedVariableName(n)).toBe(true);
    for (const n of ['all_time', 'country', 'Week']) expect(isReservedVariableName(n)).toBe(false);
  });
  it('MySQL time zone probe', () => {
    expect(mysqlTimeZoneProbeSql(['UTC', 'Europe/Berlin'])).toBe(
      "SELECT CONVERT_TZ('2000-01-01 00:00:00', 'UTC', 'UTC') AS z0, CONVERT_TZ('2000-01-01 00:00:00', 'UTC', 'Europe/Berlin') AS z1",
    );
    expect(() => assertMysqlTimeZoneProbe({ z0: '2000-01-01 00:00:00', z1: '2000-01-01 01:00:00' }, ['UTC', 'Europe/Berlin'])).not.toThrow();
    expect(() => assertMysqlTimeZoneProbe({ z0: null, z1: null }, ['UTC', 'Europe/Berlin'])).toThrow(/does not know the time zone\(s\) UTC, Europe\/Berlin/);
    expect(() => mysqlTimeZoneProbeSql(["x'"])).toThrow();
  });
  it('errors are 422 ValidationErrors with code query_compile_error', () => {
    const e = compileError(() => compileMy('{x=f}', { parameters: { filters: [sel('f', 'a\u0000')] } }));
    expect(e).toBeInstanceOf(QueryCompileError);
    expect(e.status).toBe(422);
    expect(e.code).toBe('query_compile_error');
    expect(e.title).toBe('Unprocessable Entity');
  });
});
