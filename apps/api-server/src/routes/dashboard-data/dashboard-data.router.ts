import type { DashboardDataService, InputParameters } from '@sightline/domain';
import { checkQueryParameters, validate } from '@sightline/jsonapi';
import { readJsonBody, sendJson, sendNoContent } from '@sightline/http';
import type { z } from 'zod';
import type { ApiContext, ApiRouter } from '../../context.js';
import { filterOptionsBody, pollStatusBody, refreshBody, reportDataBody } from './dashboard-data.schema.js';

export interface DashboardDataRouteDeps {
  dashboardData: DashboardDataService;
  maxBodyBytes: number;
}

/** The dashboard read path: contract rows 23, 24, 50, 52, 61, 62 (plain JSON in and out). */
export function registerDashboardDataRoutes(router: ApiRouter, deps: DashboardDataRouteDeps): void {
  const body = async <S extends z.ZodType>(ctx: ApiContext, schema: S, required: boolean): Promise<z.output<S>> => {
    checkQueryParameters(ctx.query, []);
    const raw = await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'json', required });
    return validate(schema, raw ?? {}, '');
  };
  const params = (p: unknown) => p as InputParameters | undefined;

  router.post('/dashboards/:id/status', async (ctx) => {
    const input = await body(ctx, pollStatusBody, true);
    sendJson(
      ctx,
      200,
      await deps.dashboardData.pollStatus(ctx.state.principal, ctx.params.id!, { refreshData: input.refresh_data, parameters: params(input.parameters) }),
    );
  });

  router.post('/dashboards/:id/refresh', async (ctx) => {
    const input = await body(ctx, refreshBody, false);
    await deps.dashboardData.refreshDashboard(ctx.state.principal, ctx.params.id!, params(input.parameters));
    sendNoContent(ctx);
  });

  router.post('/reports/:id/refresh', async (ctx) => {
    const input = await body(ctx, refreshBody, false);
    const execution = await deps.dashboardData.refreshReport(ctx.state.principal, ctx.params.id!, params(input.parameters));
    sendJson(ctx, 200, { execution_id: execution.id });
  });

  router.post('/reports/:id/data', async (ctx) => {
    const input = await body(ctx, reportDataBody, false);
    const data = await deps.dashboardData.reportData(ctx.state.principal, ctx.params.id!, {
      parameters: params(input.parameters),
      dataFormat: input.data_format,
      csv: { columnSeparator: input.csv_column_separator, decimalSeparator: input.csv_decimal_separator, quoteStyle: input.csv_quote_style },
    });
    if (data) sendJson(ctx, 200, data);
    else sendNoContent(ctx);
  });

  router.post('/filters/:id/options', async (ctx) => {
    const input = await body(ctx, filterOptionsBody, false);
    sendJson(
      ctx,
      200,
      await deps.dashboardData.filterOptions(ctx.state.principal, ctx.params.id!, { dashboardId: input.dashboard_id, parameters: params(input.parameters) }),
    );
  });

  router.post('/filters/:id/refresh_options', async (ctx) => {
    const input = await body(ctx, filterOptionsBody, false);
    const execution = await deps.dashboardData.refreshFilterOptions(ctx.state.principal, ctx.params.id!, {
      dashboardId: input.dashboard_id,
      parameters: params(input.parameters),
    });
    if (execution) sendJson(ctx, 200, { execution_id: execution.id });
    else sendNoContent(ctx);
  });
}
