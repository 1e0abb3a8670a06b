import type { ExportJobService, InputParameters } from '@sightline/domain';
import { checkQueryParameters, validate } from '@sightline/jsonapi';
import { readJsonBody, sendJson, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { exportBody } from './export-job.schema.js';

export interface ExportJobRouteDeps {
  exportJobs: ExportJobService;
  maxBodyBytes: number;
}

/** Export jobs: contract rows 27, 28, 53–55 (start or reuse), 88 (status), 89 (cancel); plain JSON. */
export function registerExportJobRoutes(router: ApiRouter, deps: ExportJobRouteDeps): void {
  const request = async (ctx: ApiContext) => {
    checkQueryParameters(ctx.query, []);
    const raw = await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'json', required: false });
    const input = validate(exportBody, raw ?? {}, '');
    return { parameters: input.parameters as InputParameters | undefined, pageWidth: input.page_width };
  };

  for (const kind of ['pdf', 'png'] as const) {
    router.post(`/dashboards/:id/export_${kind}`, async (ctx) => {
      const job = await deps.exportJobs.exportDashboard(ctx.state.principal, ctx.params.id!, kind, await request(ctx));
      sendJson(ctx, 200, { job_id: job.id });
    });
  }
  for (const kind of ['pdf', 'png', 'csv'] as const) {
    router.post(`/reports/:id/export_${kind}`, async (ctx) => {
      const job = await deps.exportJobs.exportReport(ctx.state.principal, ctx.params.id!, kind, await request(ctx));
      sendJson(ctx, 200, { job_id: job.id });
    });
  }

  router.get('/export_jobs/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    sendJson(ctx, 200, await deps.exportJobs.status(ctx.state.principal, ctx.params.id!));
  });

  router.post('/export_jobs/:id/cancel', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'json', required: false });
    await deps.exportJobs.cancel(ctx.state.principal, ctx.params.id!);
    sendNoContent(ctx);
  });
}
