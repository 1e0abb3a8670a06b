// Prints the functions with the most self time (and the files with the most) in a V8 CPU profile:
//   npx tsx bench/support/profile-top.ts <file.cpuprofile> [count]
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, countArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top.ts <file.cpuprofile> [count]');
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const fnTotals = new Map<string, number>();
const fileTotals = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const short = url.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/.*\/(apps|packages)\//, '$1/');
  const fn = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
  fnTotals.set(fn, (fnTotals.get(fn) ?? 0) + us);
  const pkg = short.startsWith('~/')
    ? short
        .split('/')
        .slice(0, short.startsWith('~/@') ? 3 : 2)
        .join('/')
    : short || functionName;
  fileTotals.set(pkg, (fileTotals.get(pkg) ?? 0) + us);
}
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`)
    .join('\n');
const n = Number(countArg ?? 25);
console.log(`total ${(total / 1000).toFixed(0)} ms sampled\n\nby function (self):\n${top(fnTotals, n)}\n\nby package/file (self):\n${top(fileTotals, n)}`);
