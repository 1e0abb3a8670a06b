// The baseline of the data-server benchmark: a plain Node static-file server. GET /<name> streams
// STATIC_DIR/<name> with fs.createReadStream; names ending in `.gz` are sent with
// `Content-Encoding: gzip` (the same headers the data server sends for the same bytes).
// STATIC_MEMORY=1: the files are read once and answered from memory (bare Node sending the bytes).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';

const dir = process.env.STATIC_DIR;
if (!dir) throw new Error('STATIC_DIR is required');

const memory = new Map<string, Buffer>();
if (process.env.STATIC_MEMORY === '1') {
  const { readdir, readFile } = await import('node:fs/promises');
  for (const name of await readdir(dir)) memory.set(name, await readFile(join(dir, name)));
}
const headersOf = (name: string, size: number) => ({
  'Content-Type': name.endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
  'Content-Length': size,
  ...(name.endsWith('.gz') ? { 'Content-Encoding': 'gzip' } : {}),
});

const server = http.createServer(async (req, res) => {
  const name = (req.url ?? '/').slice(1);
  if (!/^[a-z0-9._-]+$/.test(name)) {
    res.writeHead(404).end();
    return;
  }
  const cached = memory.get(name);
  if (cached) {
    res.writeHead(200, headersOf(name, cached.length)).end(cached);
    return;
  }
  const file = join(dir, name);
  try {
    const { size } = await stat(file);
    res.writeHead(200, headersOf(name, size));
    createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404).end();
  }
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  console.log(`Static server: http://127.0.0.1:${address.port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
