import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Router } from '@koa/router';
import { NotFoundError, isUuid, type Clock, type DataTokens, type PgExportFileStore } from '@sightline/domain';
import { checkQueryParameters } from '@sightline/jsonapi';
import type { RequestState } from '@sightline/http';

export interface ExportFileRoutesDeps {
  exportFiles: PgExportFileStore;
  tokens: DataTokens;
  clock: Clock;
}

/** `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987). */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * `GET /exports/{job id}[/{file name}]?token=…`: the file of a finished export job, for holders of
 * the signed file URL that Get Export Job hands out. Streams the stored chunks; the organization
 * comes from the token, so another organization's job is simply not found.
 */
export function exportFileRoutes(deps: ExportFileRoutesDeps): Router<RequestState> {
  const router = new Router<RequestState>();
  const download = async (ctx: Parameters<Parameters<typeof router.get>[1]>[0]) => {
    checkQueryParameters(ctx.query, ['token']);
    const id = ctx.params.id!;
    const token = ctx.query.token;
    const grant = deps.tokens.verifyExportFile(typeof token === 'string' ? token : undefined, id);
    if (!isUuid(id)) throw new NotFoundError(`Export file ${id} not found`, { code: 'export_file_not_found' });
    const file = await deps.exportFiles.findFile(grant.organizationId, id, deps.clock.now());
    if (!file) throw new NotFoundError(`Export file ${id} not found (it may have expired)`, { code: 'export_file_not_found' });
    ctx.status = 200;
    ctx.set('Content-Type', file.contentType);
    ctx.set('Content-Disposition', contentDisposition(file.fileName));
    ctx.set('Cache-Control', 'private, no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    const stored = Readable.from(deps.exportFiles.read(id, file.chunkCount));
    ctx.vary('Accept-Encoding');
    if (file.contentEncoding === 'gzip' && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      // passed through as stored
      ctx.set('Content-Encoding', 'gzip');
      ctx.body = stored;
    } else if (file.contentEncoding === 'gzip') {
      ctx.length = file.size;
      const gunzip = createGunzip();
      stored.on('error', (err) => gunzip.destroy(err));
      ctx.body = stored.pipe(gunzip);
    } else {
      ctx.length = file.size;
      ctx.body = stored;
    }
  };
  router.get('/exports/:id', download);
  router.get('/exports/:id/:name', download);
  return router;
}
