import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createPlatformTestContext, type PlatformTestContext } from '../../../test/support/platform.js';
import { createDriver } from '@sightline/domain';
import { CsvRowEncoder, type CsvFormat } from '@sightline/render/csv';
import { decodePng, inkRatio, pdfText, pixel, readXlsx } from '../../../packages/render/test/decode.js';
import { TYPES_SQL } from '../../../packages/domain/test/drivers/encoded-types.js';

let t: PlatformTestContext;
let admin: pg.Client;
let datasourceId: string;
let dashboardId: string;
let byStatus: string;
let orders: string;
let total: string;
let otherSecret: string;

const auth = () => `Api ${t.adminSecret}`;
const post = (path: string, body?: unknown, secret = t.adminSecret) => {
  const req = t.api.post(path).set('Authorization', `Api ${secret}`);
  return body === undefined ? req : req.set('Content-Type', 'application/json').send(JSON.stringify(body));
};

interface JobDoc {
  job_status: string;
  file_url: string | null;
  error_message: string | null;
}

async function jobStatus(id: string, secret = t.adminSecret): Promise<JobDoc> {
  const res = await t.api.get(`/export_jobs/${id}`).set('Authorization', `Api ${secret}`);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toContain('application/json');
  return res.body as JobDoc;
}

async function waitForJob(id: string, timeoutMs = 60_000): Promise<JobDoc> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const doc = await jobStatus(id);
    if (doc.job_status === 'success' || doc.job_status === 'error') return doc;
    if (Date.now() > deadline) throw new Error(`export job ${id} still ${doc.job_status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Downloads a file URL from the data server (path and query of the URL). */
async function download(fileUrl: string) {
  const url = new URL(fileUrl);
  return t.data
    .get(`${url.pathname}${url.search}`)
    .buffer(true)
    .parse((res, cb) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => cb(null, Buffer.concat(parts)));
    });
}

async function exportAndDownload(path: string, body: unknown = {}) {
  const res = await post(path, body);
  expect(res.status).toBe(200);
  expect(Object.keys(res.body)).toEqual(['job_id']);
  const doc = await waitForJob(res.body.job_id);
  expect(doc).toMatchObject({ job_status: 'success', error_message: null });
  const file = await download(doc.file_url!);
  expect(file.status).toBe(200);
  return { jobId: res.body.job_id as string, file: Object.assign(file, { jobId: res.body.job_id as string }), body: file.body as Buffer };
}

async function createReport(name: string, sql: string, layout: { width: number; height: number }, chart: object, extra: object = {}) {
  const res = await t.api
    .post('/reports')
    .set('Authorization', auth())
    .send({
      data: {
        attributes: { name, sql_query: sql, ...layout, ...extra },
        relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
      },
    });
  expect(res.status).toBe(201);
  // chart_configuration is read-only in the API (contract §3.7): set it as the app's editor would
  await admin.query('UPDATE reports SET chart_configuration = $1 WHERE id = $2', [JSON.stringify(chart), res.body.data.id]);
  return res.body.data.id as string;
}

beforeAll(async () => {
  t = await createPlatformTestContext();
  admin = new pg.Client({ connectionString: t.database.url });
  await admin.connect();
  await admin.query(`CREATE TABLE shop_orders (id int PRIMARY KEY, status text, amount numeric(10,2), note text)`);
  await admin.query(
    `INSERT INTO shop_orders SELECT g, (ARRAY['paid','open','refunded'])[1 + g % 3], g * 1.25, CASE WHEN g % 50 = 0 THEN 'comma, "quote"' || chr(10) || 'line' ELSE 'n' || g END FROM generate_series(1, 500) g`,
  );
  const ds = await t.api
    .post('/datasources')
    .set('Authorization', auth())
    .send({
      data: {
        attributes: {
          name: 'Shop',
          database_type: 'postgres',
          connection_mode: 'direct',
          host: '127.0.0.1',
          port: 5432,
          username: 'postgres',
          database: t.database.name,
          require_ssl: false,
        },
      },
    });
  datasourceId = ds.body.data.id;
  const dash = await t.api
    .post('/dashboards')
    .set('Authorization', auth())
    .send({ data: { attributes: { name: 'Sales: Q4/2026', data_refresh_rate: 60 } } });
  dashboardId = dash.body.data.id;
  byStatus = await createReport(
    'Orders by status',
    'SELECT status, count(*) AS orders FROM shop_orders GROUP BY 1 ORDER BY 1',
    { width: 6, height: 6 },
    { type: 'column' },
  );
  total = await createReport('Total revenue', 'SELECT sum(amount) AS revenue FROM shop_orders', { width: 6, height: 3 }, { type: 'number' });
  orders = await createReport(
    'Latest orders',
    'SELECT id, status, amount, note FROM shop_orders ORDER BY id',
    { width: 12, height: 6 },
    {},
    { unlimited_csv_export_enabled: true },
  );
  otherSecret = (await t.services.organizations.create('Other Org')).adminKey.secret;
});

afterAll(async () => {
  await admin?.end();
  await t?.close();
});

describe('dashboard exports', () => {
  it('PDF: runs the missing queries, renders, and serves the file with the dashboard name; text shows names, values, time zone', async () => {
    const { file, body } = await exportAndDownload(`/dashboards/${dashboardId}/export_pdf`, { parameters: {} });
    expect(file.headers['content-type']).toBe('application/pdf');
    expect(file.headers['content-disposition']).toBe(`attachment; filename="Sales Q4 2026.pdf"; filename*=UTF-8''Sales%20Q4%202026.pdf`);
    expect(Number(file.headers['content-length'])).toBe(body.length);
    const text = (await pdfText(body)).pages.join(' ');
    for (const name of ['Sales: Q4/2026', 'Orders by status', 'Total revenue', 'Latest orders', 'Time zone: UTC']) expect(text).toContain(name);
    // table values and the KPI as the database has them
    const first = (await admin.query(`SELECT id, status, amount::text AS amount, note FROM shop_orders ORDER BY id LIMIT 3`)).rows;
    for (const row of first) expect(text).toContain(`${row.id} ${row.status} ${row.amount.replace(/0+$/, '').replace(/\.$/, '')} ${row.note}`);
    const sum = (await admin.query('SELECT sum(amount) AS s FROM shop_orders')).rows[0].s as string;
    expect(text).toContain(Number(sum).toLocaleString('en-US', { maximumFractionDigits: 6 }));
    expect(text).toMatch(/and [\d,]+ more rows \(500 in all\)/);
  });

  it('PNG: the requested page width, ink where each report is on the grid', async () => {
    const { file, body } = await exportAndDownload(`/dashboards/${dashboardId}/export_png`, { page_width: 1200 });
    expect(file.headers['content-type']).toBe('image/png');
    const png = decodePng(body);
    expect(png.width).toBe(1200);
    // the first card's top edge: scan down the left margin for the white card
    let top = 0;
    for (let y = 30; y < png.height; y++)
      if (pixel(png, 40, y).slice(0, 3).join() === '255,255,255') {
        top = y;
        break;
      }
    expect(top).toBeGreaterThan(40);
    const colWidth = (1200 - 48 + 12) / 12;
    const cards = [
      { row: 1, column: 1, width: 6, height: 6 },
      { row: 1, column: 7, width: 6, height: 3 },
      { row: 7, column: 1, width: 12, height: 6 },
    ];
    for (const c of cards) {
      const box = { x: 24 + (c.column - 1) * colWidth + 12, y: top + (c.row - 1) * 50 + 34, width: c.width * colWidth - 36, height: c.height * 50 - 70 };
      expect(inkRatio(png, box, [255, 255, 255])).toBeGreaterThan(0.01);
    }
  });

  it('reuses a recent successful job while its data is current; new parameters or stale data start a new one', async () => {
    const first = await post(`/dashboards/${dashboardId}/export_png`, { parameters: { aggregation: 'month' } });
    await waitForJob(first.body.job_id);
    const again = await post(`/dashboards/${dashboardId}/export_png`, { parameters: { aggregation: 'month' } });
    expect(again.body.job_id).toBe(first.body.job_id);
    const other = await post(`/dashboards/${dashboardId}/export_png`, { parameters: { aggregation: 'day' } });
    expect(other.body.job_id).not.toBe(first.body.job_id);
    await waitForJob(other.body.job_id);
    // data older than the dashboard's 60-minute refresh rate is no longer current
    const twoHoursAgo = `to_jsonb(to_char((now() - interval '2 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))`;
    await admin.query(`UPDATE results SET data_timestamp = now() - interval '2 hours'`);
    await admin.query(
      `UPDATE export_jobs SET report_data = (SELECT jsonb_agg(jsonb_set(e, '{data_timestamp}', ${twoHoursAgo})) FROM jsonb_array_elements(report_data) e) WHERE id = $1`,
      [first.body.job_id],
    );
    const stale = await post(`/dashboards/${dashboardId}/export_png`, { parameters: { aggregation: 'month' } });
    expect(stale.body.job_id).not.toBe(first.body.job_id);
    expect((await waitForJob(stale.body.job_id)).job_status).toBe('success');
    const fresh = (await admin.query(`SELECT count(*)::int AS n FROM results WHERE data_timestamp > now() - interval '10 minutes'`)).rows[0].n;
    expect(fresh).toBeGreaterThanOrEqual(3);
  });

  it('a report whose query fails shows its error in the picture; the export succeeds', async () => {
    const broken = await createReport('Broken report', 'SELECT * FROM no_such_table', { width: 4, height: 3 }, { type: 'bar' });
    const { body } = await exportAndDownload(`/dashboards/${dashboardId}/export_pdf`, { parameters: { aggregation: 'week' } });
    const text = (await pdfText(body)).pages.join(' ');
    expect(text).toContain('Broken report');
    expect(text).toContain('no_such_table');
    await t.api.delete(`/reports/${broken}`).set('Authorization', auth()).expect(204);
  });
});

describe('report exports', () => {
  it('PNG and PDF of one report at its default page size', async () => {
    const { body: pngBody, file } = await exportAndDownload(`/reports/${byStatus}/export_png`);
    expect(file.headers['content-disposition']).toContain('filename="Orders by status.png"');
    const png = decodePng(pngBody);
    expect([png.width, png.height]).toEqual([800, 600]);
    expect(inkRatio(png, { x: 40, y: 60, width: 720, height: 480 }, [255, 255, 255])).toBeGreaterThan(0.02);
    const { body: pdfBody } = await exportAndDownload(`/reports/${byStatus}/export_pdf`, { page_width: 1000 });
    const pdf = await pdfText(pdfBody);
    expect(pdf.pageSizes[0]![0]).toBeCloseTo(750, 0);
    expect(pdf.pages[0]).toContain('Orders by status');
    for (const status of ['open', 'paid', 'refunded']) expect(pdf.pages[0]).toContain(status);
  });

  it('unlimited CSV equals the database rows, with the organization CSV settings', async () => {
    await admin.query(`UPDATE organizations SET csv_column_separator = ';', csv_decimal_separator = ',' WHERE id = $1`, [t.organization.id]);
    const { file, body } = await exportAndDownload(`/reports/${orders}/export_csv`, { parameters: {} }).finally(() =>
      admin.query(`UPDATE organizations SET csv_column_separator = ',', csv_decimal_separator = '.' WHERE id = $1`, [t.organization.id]),
    );
    expect(file.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(file.headers['content-disposition']).toContain('filename="Latest orders.csv"');
    const expected = (
      await admin.query(`SELECT id::text AS id, status, replace((amount::float8)::text, '.', ',') AS amount, note FROM shop_orders ORDER BY shop_orders.id`)
    ).rows.map((r) => [r.id, r.status, r.amount, r.note]);
    expect(parseCsv(body.toString('utf8'), ';')).toEqual([['id', 'status', 'amount', 'note'], ...expected]);
    // stored gzip-compressed: passed through to clients that take gzip, decompressed for the others
    expect(file.headers['content-encoding']).toBe('gzip');
    const url = new URL((await jobStatus(file.jobId)).file_url!);
    const plain = await t.data
      .get(`${url.pathname}${url.search}`)
      .set('Accept-Encoding', 'identity')
      .buffer(true)
      .parse((res, cb) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => cb(null, Buffer.concat(parts)));
      });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Number(plain.headers['content-length'])).toBe(body.length);
    expect((plain.body as Buffer).equals(body)).toBe(true);
  });

  it("unlimited CSV of every type: the database-encoded file is byte for byte the cursor path's", async () => {
    const report = await createReport('Every type', TYPES_SQL, { width: 12, height: 4 }, {}, { unlimited_csv_export_enabled: true });
    const formats: CsvFormat[] = [
      { columnSeparator: ',', decimalSeparator: '.', quoteStyle: 'necessary' },
      { columnSeparator: ';', decimalSeparator: ',', quoteStyle: 'always' },
    ];
    for (const [i, format] of formats.entries()) {
      await admin.query(`UPDATE organizations SET csv_column_separator = $2, csv_decimal_separator = $3, csv_quote_style = $4 WHERE id = $1`, [
        t.organization.id,
        format.columnSeparator,
        format.decimalSeparator,
        format.quoteStyle,
      ]);
      const { body } = await exportAndDownload(`/reports/${report}/export_csv`, { parameters: { aggregation: ['day', 'week'][i] } }).finally(() =>
        admin.query(`UPDATE organizations SET csv_column_separator = ',', csv_decimal_separator = '.', csv_quote_style = 'necessary' WHERE id = $1`, [
          t.organization.id,
        ]),
      );
      // the cursor path: the driver's values through the encoder, as the export wrote them before
      const driver = createDriver({
        databaseType: 'postgres',
        host: '127.0.0.1',
        port: 5432,
        username: 'postgres',
        password: null,
        database: t.database.name,
        requireSsl: false,
        verifySsl: false,
        dataTimeZone: 'UTC',
        connectTimeoutMs: 15_000,
      });
      try {
        const query = await driver.query(TYPES_SQL, [], { timeoutMs: 60_000 });
        const encoder = new CsvRowEncoder(
          (await query.columns()).map((c) => ({ name: c.name, data_type: c.dataType })),
          format,
        );
        let expected = encoder.header();
        for await (const batch of query.rows()) expected += encoder.rows(batch);
        expect(body.toString('utf8')).toBe(expected);
        expect(body.equals(Buffer.from(expected, 'utf8'))).toBe(true);
      } finally {
        await driver.close();
      }
    }
    // the dashboard's other exports count its reports
    expect((await t.api.delete(`/reports/${report}`).set('Authorization', auth())).status).toBe(204);
  });

  it('unlimited CSV starts at most once per 10 minutes per parameter set', async () => {
    const a = await post(`/reports/${orders}/export_csv`, { parameters: { aggregation: 'year' } });
    const b = await post(`/reports/${orders}/export_csv`, { parameters: { aggregation: 'year' } });
    expect(b.body.job_id).toBe(a.body.job_id);
    await waitForJob(a.body.job_id);
    await admin.query(`UPDATE export_jobs SET created_at = now() - interval '11 minutes' WHERE id = $1`, [a.body.job_id]);
    const c = await post(`/reports/${orders}/export_csv`, { parameters: { aggregation: 'year' } });
    expect(c.body.job_id).not.toBe(a.body.job_id);
    await waitForJob(c.body.job_id);
  });

  it('422 when the report does not allow unlimited CSV export', async () => {
    const res = await post(`/reports/${byStatus}/export_csv`, {});
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({ code: '422', detail: expect.stringContaining('unlimited_csv_export_enabled') });
  });

  it('a failing query ends the CSV job as error with the database message', async () => {
    const bad = await createReport('Bad CSV', 'SELECT * FROM missing_table_x', { width: 4, height: 3 }, {}, { unlimited_csv_export_enabled: true });
    const res = await post(`/reports/${bad}/export_csv`, {});
    const doc = await waitForJob(res.body.job_id);
    expect(doc).toEqual({ job_status: 'error', file_url: null, error_message: expect.stringContaining('missing_table_x') });
    await t.api.delete(`/reports/${bad}`).set('Authorization', auth()).expect(204);
  });

  it('unlimited CSV from a MariaDB datasource equals its rows', async () => {
    const conn = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
    const table = `export_csv_${Date.now().toString(36)}`;
    try {
      await conn.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, label VARCHAR(50), price DECIMAL(8,2), happened DATETIME)`);
      await conn.query(
        `INSERT INTO ${table} VALUES (1, 'a,b', 1.50, '2026-01-02 03:04:05'), (2, 'say "hi"', NULL, '2026-02-03 00:00:00'), (3, 'plain', 3.00, NULL)`,
      );
      const maria = await t.api
        .post('/datasources')
        .set('Authorization', auth())
        .send({
          data: {
            attributes: {
              name: 'Maria',
              database_type: 'mariadb',
              connection_mode: 'direct',
              host: '127.0.0.1',
              port: 3306,
              username: 'root',
              database: 'test',
              require_ssl: false,
            },
          },
        });
      expect(maria.status).toBe(201);
      const rep = await t.api
        .post('/reports')
        .set('Authorization', auth())
        .send({
          data: {
            attributes: { name: 'Maria rows', sql_query: `SELECT id, label, price, happened FROM ${table} ORDER BY id`, unlimited_csv_export_enabled: true },
            relationships: {
              dashboard: { data: { type: 'dashboards', id: dashboardId } },
              datasource: { data: { type: 'datasources', id: maria.body.data.id } },
            },
          },
        });
      const { body } = await exportAndDownload(`/reports/${rep.body.data.id}/export_csv`).finally(() =>
        t.api.delete(`/reports/${rep.body.data.id}`).set('Authorization', auth()),
      );
      const [rows] = (await conn.query(
        `SELECT id, label, CAST(price AS CHAR) AS price, DATE_FORMAT(happened, '%Y-%m-%dT%H:%i:%s') AS happened FROM ${table} ORDER BY id`,
      )) as unknown as [Array<Record<string, unknown>>];
      const expected = rows.map((r) => [String(r.id), r.label, r.price === null ? '' : String(Number(r.price)), r.happened ?? '']);
      expect(parseCsv(body.toString('utf8'), ',')).toEqual([['id', 'label', 'price', 'happened'], ...expected]);
    } finally {
      await conn.query(`DROP TABLE IF EXISTS ${table}`);
      await conn.end();
    }
  });
});

describe('export job lifecycle', () => {
  it('cancel stops the queries the job started and ends it as error', async () => {
    const locker = new pg.Client({ connectionString: t.database.url });
    await locker.connect();
    await locker.query('SELECT pg_advisory_lock(987654)');
    try {
      const slow = await createReport(
        'Slow report',
        'SELECT pg_advisory_lock_shared(987654) IS NULL AS waited, 1 AS n',
        { width: 4, height: 3 },
        { type: 'number' },
      );
      const res = await post(`/reports/${slow}/export_png`, {});
      const id = res.body.job_id as string;
      // the job runs and its query waits on the lock this test holds
      let executionId: string | undefined;
      for (const deadline = Date.now() + 60_000; !executionId && Date.now() < deadline;) {
        const row = (await admin.query(`SELECT execution_ids->>0 AS e, job_status FROM export_jobs WHERE id = $1`, [id])).rows[0];
        const running = row.e && (await admin.query(`SELECT 1 FROM executions WHERE id = $1 AND execution_status = 'running'`, [row.e])).rowCount;
        if (running) executionId = row.e;
        else await new Promise((r) => setTimeout(r, 50));
      }
      expect(executionId).toBeDefined();
      expect((await jobStatus(id)).job_status).toBe('running');
      await post(`/export_jobs/${id}/cancel`).expect(204);
      expect(await jobStatus(id)).toEqual({ job_status: 'error', file_url: null, error_message: 'The export was cancelled' });
      // the query was stopped in the database (the lock is still held by this test)
      let status = '';
      for (const deadline = Date.now() + 60_000; status !== 'cancelled' && Date.now() < deadline;) {
        status = (await admin.query('SELECT execution_status FROM executions WHERE id = $1', [executionId])).rows[0].execution_status;
        if (status !== 'cancelled') await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toBe('cancelled');
      // cancelling again, or a finished job, has no effect
      await post(`/export_jobs/${id}/cancel`).expect(204);
      expect((await jobStatus(id)).job_status).toBe('error');
      await t.api.delete(`/reports/${slow}`).set('Authorization', auth()).expect(204);
    } finally {
      await locker.query('SELECT pg_advisory_unlock(987654)');
      await locker.end();
    }
  });

  it('expired jobs and their files are gone (404)', async () => {
    const { jobId } = await exportAndDownload(`/reports/${total}/export_png`, { parameters: { aggregation: 'quarter' } });
    const doc = await jobStatus(jobId);
    await admin.query(`UPDATE export_jobs SET expires_at = now() - interval '1 second' WHERE id = $1`, [jobId]);
    expect((await t.api.get(`/export_jobs/${jobId}`).set('Authorization', auth())).status).toBe(404);
    expect((await download(doc.file_url!)).status).toBe(404);
    expect(await t.services.exportJobs.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect((await admin.query('SELECT count(*)::int AS n FROM export_file_chunks WHERE export_job_id = $1', [jobId])).rows[0].n).toBe(0);
  });

  it('other organizations see nothing: 404 on jobs, dashboards and reports; file tokens open only their own job', async () => {
    const { jobId } = await exportAndDownload(`/reports/${total}/export_pdf`);
    const url = new URL((await jobStatus(jobId)).file_url!);
    for (const res of [
      await t.api.get(`/export_jobs/${jobId}`).set('Authorization', `Api ${otherSecret}`),
      await post(`/export_jobs/${jobId}/cancel`, undefined, otherSecret),
      await post(`/dashboards/${dashboardId}/export_pdf`, {}, otherSecret),
      await post(`/reports/${total}/export_png`, {}, otherSecret),
      await post(`/reports/${orders}/export_csv`, {}, otherSecret),
    ])
      expect(res.status).toBe(404);
    // a token of one job does not open another
    const second = await exportAndDownload(`/reports/${byStatus}/export_pdf`, { parameters: { aggregation: 'hour' } });
    const secondUrl = new URL((await jobStatus(second.jobId)).file_url!);
    const swapped = await t.data.get(`${secondUrl.pathname}${url.search}`);
    expect(swapped.status).toBe(403);
    // a job of the other organization is not found with a token of that organization for this job id
    const forged = t.services.tokens.signExportFile(
      { organizationId: (await t.services.organizations.create('Third')).organization.id, exportJobId: jobId },
      60,
    );
    expect((await t.data.get(`/exports/${jobId}?token=${forged}`)).status).toBe(404);
  });

  it('hostile input: bad ids, bodies, tokens and media types get clear 4xx errors', async () => {
    expect((await t.api.get('/export_jobs/not-a-uuid').set('Authorization', auth())).status).toBe(404);
    expect((await t.api.get('/export_jobs/00000000-0000-0000-0000-000000000000').set('Authorization', auth())).status).toBe(404);
    expect((await post('/dashboards/nope-nope-nope/export_pdf', {})).status).toBe(404);
    expect((await post(`/dashboards/${dashboardId}/export_pdf`, { parameters: { timerange: 'yesterday-ish' } })).status).toBe(422);
    // body shape errors are 422 with a pointer (the API's validation convention)
    for (const body of [
      { bogus: 1 },
      { page_width: 10 },
      { page_width: 1.5 },
      { parameters: 'x' },
      { parameters: { filters: [{ variable_name: 'a b', selected_values: [] }] } },
    ]) {
      const res = await post(`/dashboards/${dashboardId}/export_pdf`, body);
      expect(res.status).toBe(422);
      expect(res.body.errors[0].source).toBeDefined();
    }
    expect((await post(`/dashboards/${dashboardId}/export_pdf`, [1, 2])).status).toBe(422);
    expect(
      (await t.api.post(`/dashboards/${dashboardId}/export_pdf`).set('Authorization', auth()).set('Content-Type', 'application/json').send('{bad json')).status,
    ).toBe(400);
    expect((await t.api.post(`/dashboards/${dashboardId}/export_pdf`).set('Authorization', auth()).set('Content-Type', 'text/plain').send('{}')).status).toBe(
      415,
    );
    expect((await t.api.post(`/dashboards/${dashboardId}/export_pdf`).send({})).status).toBe(401);
    expect((await post(`/export_jobs/${'x'.repeat(300)}/cancel`)).status).toBe(404);
    const job = (await post(`/reports/${total}/export_pdf`, {})).body.job_id as string;
    expect((await t.data.get(`/exports/${job}`)).status).toBe(401);
    expect((await t.data.get(`/exports/${job}?token=abc.def.ghi`)).status).toBe(401);
    expect((await t.data.get(`/exports/${job}?token=x&other=1`)).status).toBe(400);
    // a data access token for results is no file token
    const resultToken = t.services.tokens.sign({ organizationId: t.organization.id, dataKey: `exports/${job}`, format: 'json' } as never);
    expect((await t.data.get(`/exports/${job}?token=${resultToken}`)).status).toBe(401);
    await waitForJob(job);
  });
});

describe('schedules and alerts use the same jobs', () => {
  it('an Excel export of a dashboard: one sheet per report with typed values', async () => {
    const job = await t.services.exportJobs.createSystemExport({
      organizationId: t.organization.id,
      targetType: 'dashboard',
      targetId: dashboardId,
      kind: 'excel',
    });
    const doc = await waitForJob(job.id);
    expect(doc.job_status).toBe('success');
    const file = await download(doc.file_url!);
    expect(file.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const sheets = await readXlsx(file.body as Buffer);
    expect(sheets.map((s) => s.name)).toEqual(['Orders by status', 'Total revenue', 'Latest orders']);
    const byStatusRows = (await admin.query('SELECT status, count(*)::int AS orders FROM shop_orders GROUP BY 1 ORDER BY 1')).rows.map((r) => [
      r.status,
      r.orders,
    ]);
    expect(sheets[0]!.rows).toEqual([['status', 'orders'], ...byStatusRows]);
    const sum = Number((await admin.query('SELECT sum(amount) AS s FROM shop_orders')).rows[0].s);
    expect(sheets[1]!.rows).toEqual([['revenue'], [sum]]);
    expect(sheets[2]!.rows).toHaveLength(501);
    expect(sheets[2]!.rows[1]).toEqual([1, 'open', 1.25, 'n1']);
  });

  it('a dark PNG for a schedule uses the dark theme', async () => {
    const job = await t.services.exportJobs.createSystemExport({
      organizationId: t.organization.id,
      targetType: 'dashboard',
      targetId: dashboardId,
      kind: 'dark_png',
    });
    const doc = await waitForJob(job.id);
    const png = decodePng((await download(doc.file_url!)).body as Buffer);
    expect(pixel(png, 3, 3).slice(0, 3)).toEqual([0x14, 0x17, 0x1c]);
  });
});

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string, sep: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
