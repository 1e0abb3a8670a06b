#!/usr/bin/env node
// Precompiles each app's entry point to `dist/<app>.mjs` with esbuild, so `npm start` and the
// `start:*` scripts run plain JavaScript: no TypeScript loader in the process (tsx costs ~55 MB of
// resident memory per process). The workspace's TypeScript (apps/*, packages/*) is bundled in;
// npm packages stay external and load from node_modules as usual. `import.meta.url` keeps the
// value of each original source file, so files found relative to the sources (the viewer page,
// the render thread's entry, fonts) are found as before. Run by `npm install` (`prepare`) and,
// when missing or older than the sources, by scripts/run-app.mjs at start.
//   node scripts/build-apps.mjs [--if-possible] [--outdir=<dir>] [app...]      (default: every app, into dist/)
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** App name → entry point; the bundle is `dist/<name>.mjs`. */
export const APPS = {
  sightline: 'apps/sightline/src/main.ts',
  'api-server': 'apps/api-server/src/main.ts',
  'data-server': 'apps/data-server/src/main.ts',
  worker: 'apps/worker/src/main.ts',
  agent: 'apps/agent/src/main.ts',
};

/**
 * Apps bundled with their npm packages too: `dist/agent.mjs` is one file that runs with nothing but
 * Node (copy it to the machine inside the private network). ws's optional native helpers stay out.
 */
const STANDALONE = new Set(['agent']);
const OPTIONAL_NATIVE = new Set(['bufferutil', 'utf-8-validate']);

export const bundlePath = (app, outdir = join(ROOT, 'dist')) => join(outdir, `${app}.mjs`);

/** Builds the bundles of `apps` (into `outdir`, default dist/); returns their paths. */
export async function buildApps(apps = Object.keys(APPS), outdir = undefined) {
  const { build } = await import('esbuild');
  const out = [];
  for (const app of apps) {
    const entry = APPS[app];
    if (!entry) throw new Error(`unknown app "${app}" (known: ${Object.keys(APPS).join(', ')})`);
    const outfile = bundlePath(app, outdir);
    await build({
      entryPoints: [join(ROOT, entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'linked',
      // a bundled CommonJS package (ws) calls require() for Node's own modules
      banner: STANDALONE.has(app)
        ? { js: "import { createRequire as __sightlineRequire } from 'node:module'; const require = __sightlineRequire(import.meta.url);" }
        : undefined,
      logLevel: 'warning',
      plugins: [
        {
          name: 'sightline-workspace',
          setup(b) {
            // npm packages stay external (except in standalone apps); @sightline/* workspace packages are bundled from source
            b.onResolve({ filter: /^[^./]/ }, (args) => {
              if (args.path.startsWith('@sightline/')) return undefined;
              if (STANDALONE.has(app) && !OPTIONAL_NATIVE.has(args.path) && !args.path.startsWith('node:')) return undefined;
              return { path: args.path, external: true };
            });
            b.onLoad({ filter: /\.ts$/ }, async (args) => {
              const source = await readFile(args.path, 'utf8');
              const url = JSON.stringify(pathToFileURL(args.path).href);
              return { contents: source.replaceAll('import.meta.url', url), loader: 'ts', resolveDir: dirname(args.path) };
            });
          },
        },
      ],
    });
    out.push(outfile);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // --if-possible (npm's `prepare`): a failed build only warns; the first start builds again
  const ifPossible = process.argv.includes('--if-possible');
  const apps = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const outdir = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length);
  const started = performance.now();
  try {
    const built = await buildApps(apps.length ? apps : undefined, outdir);
    console.log(`built ${built.map((f) => relative(ROOT, f)).join(', ')} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    if (!ifPossible) throw err;
    console.warn(`warning: could not precompile the apps (${err.message}); \`npm start\` will try again`);
  }
}
