// Scenario "r-query": the cost of R post-processing (`r_query` = `data`, a pass-through) on
// BENCH_R_ROWS (default 100000) rows of 4 columns, against the same R run on an empty result (the
// fixed cost of starting an isolated Rscript), measured in the same run. Needs Rscript.
import { RRuntime, type ResultColumn } from '@sightline/domain';
import { envNumber, median, type BenchMetric, type BenchScenario } from './support/harness.js';

const COLUMNS: ResultColumn[] = [
  { name: 'id', dbType: 'int4', dataType: 'Integer' },
  { name: 'label', dbType: 'text', dataType: 'String' },
  { name: 'amount', dbType: 'float8', dataType: 'Float' },
  { name: 'day', dbType: 'date', dataType: 'Date' },
];

async function* rowsOf(count: number): AsyncGenerator<unknown[][]> {
  for (let start = 0; start < count; start += 1000) {
    const batch: unknown[][] = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) batch.push([i, `row ${i}`, i * 1.25, '2024-01-01']);
    yield batch;
  }
}

async function timeRun(runtime: RRuntime, rows: number): Promise<number> {
  const started = performance.now();
  const out = await runtime.run('data', { columns: COLUMNS, rows: rowsOf(rows), rowLimit: rows + 1 }, new AbortController().signal);
  let n = 0;
  for await (const batch of out.rows()) n += batch.length;
  if (n !== rows) throw new Error(`expected ${rows} rows back, got ${n}`);
  return performance.now() - started;
}

export const scenario: BenchScenario = {
  name: 'r-query',
  description: 'R post-processing pass-through of N rows vs an empty result (ms)',
  async run(ctx) {
    const rows = envNumber('BENCH_R_ROWS', 100_000);
    const runtime = new RRuntime({ timeoutMs: 300_000, memoryLimitBytes: 4096 * 1_048_576 });
    if (!runtime.available) throw new Error('Rscript is not installed');
    ctx.log(`isolation: ${runtime.isolation}`);
    const empty: number[] = [];
    const full: number[] = [];
    for (let i = 0; i < 3; i++) {
      empty.push(await timeRun(runtime, 0));
      full.push(await timeRun(runtime, rows));
      ctx.log(`round ${i + 1}: empty ${empty[i]!.toFixed(0)} ms, ${rows} rows ${full[i]!.toFixed(0)} ms`);
    }
    const base = median(empty);
    const withRows = median(full);
    const metrics: BenchMetric[] = [
      { metric: 'R run on an empty result (baseline)', value: base, unit: 'ms' },
      { metric: `R run on ${rows} rows`, value: withRows, unit: 'ms', note: `ratio ${(withRows / base).toFixed(2)}` },
      { metric: 'rows through R per second (beyond the baseline)', value: rows / Math.max(0.001, (withRows - base) / 1000), unit: 'rows/s' },
    ];
    return metrics;
  },
};
