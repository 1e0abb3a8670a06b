import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip as gzipCallback, constants as zlibConstants } from 'node:zlib';
import esbuild from 'esbuild';
import type { Logger } from '@sightline/domain';

const gzip = promisify(gzipCallback);

/** Where the page's browser code lives (`apps/api-server/viewer`). */
const VIEWER_SOURCE_DIR = fileURLToPath(new URL('../../viewer/', import.meta.url));

/** One built file, kept in memory with its gzip form. */
interface AssetFile {
  body: Buffer;
  gzip: Buffer;
  contentType: string;
}

/** The built page: content-hashed file names (cached forever) and which ones the HTML references. */
export interface BuiltAssets {
  files: ReadonlyMap<string, AssetFile>;
  /** File name of the entry script (an ES module). */
  script: string;
  /** File name of the stylesheet. */
  stylesheet: string;
  /** Chunks the entry imports statically (preloaded with the entry). */
  preload: string[];
  /** The chart chunk (vega), preloaded when the page has charts. */
  charts: string | undefined;
  /** Build time in ms. */
  buildMs: number;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
};

function base(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Bundles the shared page from `viewer/` and `node_modules` with esbuild, in memory, once per
 * process (the first page or asset request waits; `warm()` at start-up takes that wait away). No
 * install script and no CDN: everything the page loads comes from this server, offline too.
 */
export class ViewerAssets {
  private built: Promise<BuiltAssets> | undefined;

  constructor(private readonly logger?: Logger) {}

  /** The built assets (builds on first call; a failed build is retried by the next call). */
  get(): Promise<BuiltAssets> {
    this.built ??= this.build().catch((err: unknown) => {
      this.built = undefined;
      throw err;
    });
    return this.built;
  }

  /** Starts the build in the background (start-up); errors are logged, the next `get()` retries. */
  warm(): void {
    this.get().catch((err: unknown) => this.logger?.error({ err }, 'building the shared page failed'));
  }

  private async build(): Promise<BuiltAssets> {
    const started = performance.now();
    const result = await esbuild.build({
      absWorkingDir: VIEWER_SOURCE_DIR,
      entryPoints: { viewer: 'main.ts', style: 'viewer.css' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
      minify: true,
      write: false,
      outdir: '/out',
      entryNames: '[name]-[hash]',
      chunkNames: 'chunk-[hash]',
      assetNames: 'asset-[hash]',
      metafile: true,
      legalComments: 'eof',
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'silent',
    });
    const files = new Map<string, AssetFile>();
    for (const out of result.outputFiles) {
      const name = base(out.path);
      const ext = name.slice(name.lastIndexOf('.'));
      const body = Buffer.from(out.contents);
      files.set(name, {
        body,
        gzip: await gzip(body, { level: zlibConstants.Z_BEST_COMPRESSION }),
        contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
      });
    }
    const outputs = result.metafile.outputs;
    let script = '';
    let stylesheet = '';
    let charts: string | undefined;
    const preload: string[] = [];
    for (const [path, output] of Object.entries(outputs)) {
      if (output.entryPoint === 'main.ts') {
        script = base(path);
        for (const imp of output.imports) if (imp.kind === 'import-statement') preload.push(base(imp.path));
      } else if (output.entryPoint === 'viewer.css') stylesheet = base(path);
      else if (Object.keys(output.inputs).some((input) => input.endsWith('vega-embed/build/embed.js'))) charts = base(path);
    }
    if (!script || !stylesheet) throw new Error('the shared page build produced no entry script or stylesheet');
    const buildMs = Math.round(performance.now() - started);
    this.logger?.info({ ms: buildMs, files: files.size }, 'shared dashboard page built');
    return { files, script, stylesheet, preload, charts, buildMs };
  }
}
