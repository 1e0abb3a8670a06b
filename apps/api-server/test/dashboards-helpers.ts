import { expect } from '@jest/globals';
import type { Response } from 'supertest';
import { auth, type ApiTestContext } from '../../../test/support/context.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

/** Shared helpers of the dashboards / reports / filters / dashboard-groups API tests. */
export class DashboardApi {
  constructor(
    readonly t: ApiTestContext,
    public secret: string,
  ) {}

  /** Every response: never a 500; JSON:API documents are valid; 204 has no body; errors are JSON:API. */
  static check(res: Response): Response {
    expect(res.status).toBeLessThan(500);
    if (res.status === 204) {
      expect(res.text ?? '').toBe('');
    } else if ((res.headers['content-type'] ?? '').includes('application/vnd.api+json')) {
      expectValidJsonApi(res.body);
    } else {
      expect(res.status).toBeLessThan(400);
      expect(res.headers['content-type']).toContain('application/json');
    }
    return res;
  }

  as(secret: string): DashboardApi {
    return new DashboardApi(this.t, secret);
  }

  async get(path: string): Promise<Response> {
    return DashboardApi.check(await this.t.api.get(path).set('Authorization', auth(this.secret)));
  }
  async post(path: string, body?: unknown): Promise<Response> {
    const req = this.t.api.post(path).set('Authorization', auth(this.secret));
    return DashboardApi.check(await (body === undefined ? req : req.send(body as object)));
  }
  async patch(path: string, body: unknown): Promise<Response> {
    return DashboardApi.check(
      await this.t.api
        .patch(path)
        .set('Authorization', auth(this.secret))
        .send(body as object),
    );
  }
  async put(path: string, body: unknown): Promise<Response> {
    return DashboardApi.check(
      await this.t.api
        .put(path)
        .set('Authorization', auth(this.secret))
        .send(body as object),
    );
  }
  async delete(path: string): Promise<Response> {
    return DashboardApi.check(await this.t.api.delete(path).set('Authorization', auth(this.secret)));
  }

  /** Creates a PostgreSQL datasource and returns its id. */
  async datasource(name = 'PG'): Promise<string> {
    const res = await this.post('/datasources', {
      data: {
        attributes: {
          name,
          database_type: 'postgres',
          connection_mode: 'direct',
          host: '127.0.0.1',
          port: 5432,
          username: 'postgres',
          database: 'postgres',
          require_ssl: false,
        },
      },
    });
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  }

  /** Creates an API key with the given permissions and returns its secret. */
  async key(permissions: Array<{ name: string; datasource_ids?: string[] | null }>): Promise<string> {
    const res = await this.post('/api_keys', { data: { attributes: { name: 'k', permissions } } });
    expect(res.status).toBe(201);
    return res.body.data.attributes.secret as string;
  }

  async dashboard(attributes: Record<string, unknown> = {}): Promise<string> {
    const res = await this.post('/dashboards', { data: { type: 'dashboards', attributes: { name: 'Sales', ...attributes } } });
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  }

  reportBody(dashboardId: string, datasourceId: string, attributes: Record<string, unknown> = {}): unknown {
    return {
      data: {
        type: 'reports',
        attributes: { name: 'Revenue', sql_query: 'SELECT 1', ...attributes },
        relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
      },
    };
  }

  async report(dashboardId: string, datasourceId: string, attributes: Record<string, unknown> = {}): Promise<string> {
    const res = await this.post('/reports', this.reportBody(dashboardId, datasourceId, attributes));
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  }

  filterBody(attributes: Record<string, unknown>, relationships: Record<string, unknown> = {}): unknown {
    return { data: { type: 'filters', attributes, relationships } };
  }

  async filter(attributes: Record<string, unknown>, relationships: Record<string, unknown> = {}): Promise<string> {
    const res = await this.post('/filters', this.filterBody(attributes, relationships));
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  }
}

/** Resource identifier linkage for requests. */
export const ref = (type: string, id: string) => ({ data: { type, id } });
export const refs = (type: string, ids: string[]) => ({ data: ids.map((id) => ({ type, id })) });
