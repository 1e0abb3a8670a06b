#!/usr/bin/env node
// Runs an app from its precompiled bundle (`dist/<app>.mjs`, see scripts/build-apps.mjs), building
// it first when it is missing or older than any workspace source file (a `git pull` without a new
// `npm install`). If the bundle cannot be written (read-only install), the TypeScript sources run
// through tsx instead, as in development.
//   node scripts/run-app.mjs <app> [arguments of the app...]
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { APPS, ROOT, bundlePath } from './build-apps.mjs';

const app = process.argv[2];
if (!app || !APPS[app]) {
  console.error(`usage: run-app.mjs <${Object.keys(APPS).join('|')}> [arguments...]`);
  process.exit(2);
}
// the app reads its own arguments from process.argv.slice(2)
process.argv.splice(2, 1);

/** Newest modification time (ms) of the TypeScript sources and package manifests of the workspace. */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'test' || entry.name === 'dist') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mjs|json)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const top of ['apps', 'packages']) {
    for (const pkg of readdirSync(join(ROOT, top))) {
      const src = join(ROOT, top, pkg, 'src');
      if (existsSync(src)) walk(src);
      const manifest = join(ROOT, top, pkg, 'package.json');
      if (existsSync(manifest)) newest = Math.max(newest, statSync(manifest).mtimeMs);
    }
  }
  return newest;
}

const bundle = bundlePath(app);
let entry = bundle;
if (!existsSync(bundle) || statSync(bundle).mtimeMs < newestSource()) {
  try {
    const { buildApps } = await import('./build-apps.mjs');
    await buildApps([app]);
  } catch (err) {
    console.error(`could not build ${bundle} (${err.message}); running the TypeScript sources through tsx`);
    const { register } = await import('tsx/esm/api');
    register();
    entry = join(ROOT, APPS[app]);
  }
}
await import(pathToFileURL(entry).href);
