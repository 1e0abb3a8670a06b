import { expandSnippets, parseSnippetParams, type SnippetDefinition } from '../../src/query/index.js';
import { compile, compileMy, compileError, sel } from './helpers.js';

describe('expandSnippets', () => {
  it('doc example: textual replacement before parameter parsing', () => {
    const snippets = [{ name: 'revenue', text: "SUM(price_paid) FROM sales WHERE order_type<>'test_order'" }];
    expect(expandSnippets('SELECT [revenue]\nGROUP BY {saletime:month}', snippets)).toEqual({
      sql: "SELECT SUM(price_paid) FROM sales WHERE order_type<>'test_order'\nGROUP BY {saletime:month}",
      snippetNames: ['revenue'],
    });
  });

  it('nests, reports the transitive closure in first-use order, leaves unknown brackets alone', () => {
    const snippets = [
      { name: 'a', text: '[b] + [c]' },
      { name: 'b', text: '[c] * 2' },
      { name: 'c', text: 'x' },
    ];
    expect(expandSnippets("SELECT [a], arr[1], [unknown], '[a]' -- [a]", snippets)).toEqual({
      sql: "SELECT x * 2 + x, arr[1], [unknown], '[a]' -- [a]",
      snippetNames: ['a', 'b', 'c'],
    });
  });

  it('allows depth 10 and rejects depth 11', () => {
    const chain = (n: number): SnippetDefinition[] => Array.from({ length: n }, (_, i) => ({ name: `s${i + 1}`, text: i + 1 < n ? `[s${i + 2}]` : 'end' }));
    expect(expandSnippets('[s1]', chain(10)).sql).toBe('end');
    const e = compileError(() => expandSnippets('SELECT\n [s1]', chain(11)));
    expect(e.detail).toBe(
      "Snippets are nested deeper than 10 levels: s1 -> s2 -> s3 -> s4 -> s5 -> s6 -> s7 -> s8 -> s9 -> s10 -> s11 (in snippet 's1' referenced at line 2, column 2)",
    );
  });

  it('rejects cycles with the chain and the position of the top-level reference', () => {
    const e = compileError(() =>
      expandSnippets('SELECT [a]', [
        { name: 'a', text: '[b]' },
        { name: 'b', text: '[a]' },
      ]),
    );
    expect(e.detail).toBe("Snippet cycle: a -> b -> a (in snippet 'a' referenced at line 1, column 8)");
    expect(e.meta).toMatchObject({ position: { line: 1, column: 8 }, snippet: 'a', snippetChain: ['a', 'b', 'a'] });
    expect(compileError(() => expandSnippets('[self]', [{ name: 'self', text: 'x [self]' }])).detail).toMatch(
      /Snippet cycle: self -> self \(in snippet 'self' referenced at line 1, column 1\)/,
    );
  });

  it('parameters: positional, named, defaults, missing, too many', () => {
    const snippets = [{ name: 'between', text: '${col} BETWEEN ${lo} AND ${hi}', params: 'col, lo = 0, hi=100' }];
    expect(expandSnippets('[between(price)]', snippets).sql).toBe('price BETWEEN 0 AND 100');
    expect(expandSnippets("[between(COALESCE(a, b), hi=f(1, 2), lo='x,y')]", snippets).sql).toBe("COALESCE(a, b) BETWEEN 'x,y' AND f(1, 2)");
    expect(compileError(() => expandSnippets('[between()]', snippets)).detail).toMatch(/missing argument 'col' \(at line 1, column 1\)/);
    expect(compileError(() => expandSnippets('[between(a, b, c, d)]', snippets)).detail).toMatch(/takes at most 3 argument/);
    expect(compileError(() => expandSnippets('[between(hi=1, a)]', snippets)).detail).toMatch(/positional argument after a named one/);
    expect(compileError(() => expandSnippets('[plain(1)]', [{ name: 'plain', text: 'x' }])).detail).toMatch(/takes no arguments/);
    expect(parseSnippetParams('a, b = 1')).toEqual([{ name: 'a' }, { name: 'b', defaultText: '1' }]);
    expect(() => parseSnippetParams('a-b')).toThrow(/invalid parameter name/);
  });
});

describe('snippets inside compileQuery', () => {
  it('snippet texts may contain parameters; errors inside a snippet point at the reference', () => {
    const snippets = [{ name: 'recent', text: '{created_at=timerange} AND {country=c}' }];
    const r = compile('SELECT * FROM t WHERE [recent]', { snippets, parameters: { timerange: '0~86399', filters: [sel('c', 'DE')] } });
    expect(r).toEqual({
      sql: 'SELECT * FROM t WHERE ((created_at) >= $1 AND (created_at) < $2) AND ((country) = $3)',
      values: ['1970-01-01T00:00:00', '1970-01-02T00:00:00', 'DE'],
      snippetNames: ['recent'],
      variables: ['timerange', 'c'],
    });
    const bad = [{ name: 'bad', text: '{x=c.bogus}' }];
    expect(compileError(() => compile('SELECT 1,\n  [bad]', { snippets: bad })).detail).toBe(
      "Invalid parameter {x=c.bogus}: unknown condition selector '.bogus' (known: .next, .previous) (in snippet 'bad' referenced at line 2, column 3)",
    );
    // positions after an expanded snippet map back to the author's SQL
    expect(compileError(() => compile('SELECT [s], {x=c.nope}', { snippets: [{ name: 's', text: 'a_much_longer_snippet_text' }] })).meta).toMatchObject({
      position: { offset: 12, line: 1, column: 13 },
    });
  });

  it('built-in snippets become bind parameters (NULL when unknown)', () => {
    const builtins = {
      userEmail: "o'hara@example.com",
      userFirstname: 'John',
      userLastname: 'Doe',
      userRole: 'viewer',
      dashboardName: 'Sample Dashboard',
      dashboardId: '69wx-3kz9-3opj',
    };
    const sql =
      'SELECT [CLUVIO_USER_EMAIL], [CLUVIO_USER_FIRSTNAME], [CLUVIO_USER_LASTNAME], [CLUVIO_USER_ROLE], [CLUVIO_DASHBOARD_NAME], [CLUVIO_DASHBOARD_ID]';
    expect(compile(sql, { builtins })).toMatchObject({
      sql: 'SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text',
      values: ["o'hara@example.com", 'John', 'Doe', 'viewer', 'Sample Dashboard', '69wx-3kz9-3opj'],
    });
    expect(compileMy('SELECT [CLUVIO_USER_EMAIL] FROM t WHERE x = [ CLUVIO_DASHBOARD_ID ]')).toMatchObject({
      sql: 'SELECT ? FROM t WHERE x = ?',
      values: [null, null],
    });
    expect(compile("SELECT '[CLUVIO_USER_EMAIL]'").values).toEqual([]);
    expect(compileError(() => compile('SELECT [CLUVIO_USER_EMAIL(1)]')).detail).toMatch(/takes no arguments/);
    // a snippet can use a built-in
    expect(compile('[me]', { snippets: [{ name: 'me', text: 'owner = [CLUVIO_USER_EMAIL]' }], builtins })).toMatchObject({
      sql: 'owner = $1::text',
      snippetNames: ['me'],
    });
  });
});

describe('limits', () => {
  it('exponential snippet expansion is stopped with a clear error', () => {
    const snippets = Array.from({ length: 10 }, (_, i) => ({
      name: `s${i}`,
      text:
        i < 9
          ? Array(10)
              .fill(`[s${i + 1}]`)
              .join(' ')
          : 'x',
    }));
    expect(compileError(() => expandSnippets('SELECT [s0]', snippets)).detail).toMatch(/longer than 2000000 characters after snippet expansion/);
  });
  // A scan that went quadratic on these 80,000 characters would run into the test timeout; the time
  // itself is not asserted (no test depends on the machine's speed).
  it('many unmatched braces and brackets compile', () => {
    const sql = `SELECT 1 ${'{[a '.repeat(20_000)}`;
    expect(compile(sql).sql).toBe(sql);
  });
});
