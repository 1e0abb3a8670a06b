// Benchmark runner (`npm run bench [-- <name filter>...]`, or `BENCH_ONLY=poll,data npm run bench`):
// runs every `bench/*.bench.ts` scenario (or those whose name contains one of the filters) one after
// another and prints a summary table.
// Scenarios export `scenario: BenchScenario` (see bench/support/harness.ts). Not part of `npm test`.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatTable, type BenchMetric, type BenchScenario } from './support/harness.js';

const here = dirname(fileURLToPath(import.meta.url));

async function loadScenarios(filters: string[]): Promise<BenchScenario[]> {
  const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
  const scenarios: BenchScenario[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { scenario?: BenchScenario };
    if (!mod.scenario) throw new Error(`${file} does not export \`scenario\``);
    if (filters.length === 0 || filters.some((f) => mod.scenario!.name.includes(f) || file.includes(f))) scenarios.push(mod.scenario);
  }
  return scenarios;
}

async function main(): Promise<void> {
  const filters = [
    ...process.argv.slice(2).filter((a) => !a.startsWith('-')),
    ...(process.env.BENCH_ONLY ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean),
  ];
  const scenarios = await loadScenarios(filters);
  if (!scenarios.length) throw new Error(`no scenario matches ${filters.join(', ')}`);
  const all: Array<BenchMetric & { scenario: string }> = [];
  let failed = false;
  for (const s of scenarios) {
    console.log(`\n=== ${s.name}: ${s.description}`);
    const started = performance.now();
    try {
      const metrics = await s.run({ log: (line) => console.log(`  ${line}`) });
      for (const m of metrics) all.push({ scenario: s.name, ...m });
    } catch (err) {
      failed = true;
      console.error(`  scenario ${s.name} failed:`, err);
      all.push({ scenario: s.name, metric: 'FAILED', value: Number.NaN, unit: '', note: String((err as Error).message ?? err) });
    }
    console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  console.log('\n=== Summary');
  console.log(formatTable(all));
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
