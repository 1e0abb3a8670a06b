import { randomUUID } from 'node:crypto';
import http from 'node:http';
import {
  DataTokens,
  PgResultStore,
  ResultWriter,
  createDomainServices,
  createLogger,
  newId,
  storeDocument,
  type DataTokenGrant,
  type ResultColumn,
  type ResultStore,
  type StoredResult,
} from '@sightline/domain';
import { listen, type RunningServer } from '@sightline/http';
import { createDataApp } from '@sightline/data-server';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.js';

export const TOKEN_SECRET = 'data-server-test-secret-0123456789abcdef';

/** A listening data server on a fresh database with two organizations and a datasource each. */
export interface DataTestContext {
  database: TestDatabase;
  store: PgResultStore;
  tokens: DataTokens;
  server: RunningServer;
  organizationId: string;
  otherOrganizationId: string;
  /** A token for `dataKey` (the test organization, json unless said otherwise). */
  token(dataKey: string, grant?: Partial<DataTokenGrant>): string;
  /** Writes `rows` through `ResultWriter` as the newest result of `dataKey`. */
  storeRows(input: {
    dataKey: string;
    columns: ResultColumn[];
    rows: unknown[][];
    organizationId?: string;
    timeZone?: string;
    dataTimestamp?: Date;
    rowLimitReached?: boolean;
  }): Promise<StoredResult>;
  /** Writes the batches of a running query (as a driver yields them) through `ResultWriter`. */
  storeBatches(input: { dataKey: string; columns: ResultColumn[]; batches: AsyncIterable<unknown[][]>; timeZone?: string }): Promise<StoredResult>;
  /** Stores a JSON document (a schema) as the newest result of `dataKey`. */
  storeDocument(input: { dataKey: string; document: unknown; organizationId?: string }): Promise<StoredResult>;
  /** A raw GET/HEAD (path sent byte for byte, nothing decoded). */
  request(path: string, headers?: Record<string, string>, method?: string): Promise<RawResponse>;
  close(): Promise<void>;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
}

/** Sends a request with `path` exactly as given (no normalisation, no decoding of the answer). */
export function rawRequest(baseUrl: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(parts);
        let json: unknown;
        try {
          json = res.headers['content-encoding'] ? undefined : JSON.parse(body.toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function insertDatasourceAndExecution(database: TestDatabase, organizationId: string, dataKey: string): Promise<string> {
  const datasourceId = newId();
  await database
    .db('datasources')
    .insert({ id: datasourceId, organization_id: organizationId, name: `ds ${datasourceId}`, database_type: 'postgres', connection_mode: 'direct' });
  const executionId = randomUUID();
  await database.db('executions').insert({
    id: executionId,
    organization_id: organizationId,
    datasource_id: datasourceId,
    execution_type: 'sql_query',
    execution_status: 'success',
    data_key: dataKey,
    sql_text: 'SELECT 1',
    completed_at: new Date(),
  });
  return executionId;
}

/** `serveFrom` lets a test put a wrapper (e.g. a read counter) between the data server and the store. */
export async function createDataTestContext(options: { serveFrom?: (store: ResultStore) => ResultStore } = {}): Promise<DataTestContext> {
  const database = await createTestDatabase();
  const services = createDomainServices({ db: database.db, encryptionKey: Buffer.alloc(32, 7) });
  const { organization } = await services.organizations.create('Data Org');
  const { organization: other } = await services.organizations.create('Other Org');
  const store = new PgResultStore(database.db);
  const tokens = new DataTokens(TOKEN_SECRET, 300);
  const app = createDataApp({
    db: database.db,
    logger: createLogger('silent', 'test'),
    resultStore: options.serveFrom ? options.serveFrom(store) : store,
    tokens,
  });
  const server = await listen(app, '127.0.0.1', 0);
  return {
    database,
    store,
    tokens,
    server,
    organizationId: organization.id,
    otherOrganizationId: other.id,
    token: (dataKey, grant = {}) => tokens.sign({ organizationId: organization.id, dataKey, kind: 'result', format: 'json', ...grant }),
    storeRows: async (input) => {
      const organizationId = input.organizationId ?? organization.id;
      const executionId = await insertDatasourceAndExecution(database, organizationId, input.dataKey);
      await store.begin({ executionId, organizationId, dataKey: input.dataKey, kind: 'rows', timeZone: input.timeZone ?? 'UTC' });
      const writer = new ResultWriter(store, executionId);
      writer.setColumns(input.columns);
      for (let i = 0; i < input.rows.length; i += 5000) await writer.write(input.rows.slice(i, i + 5000));
      return writer.finish({ rowLimitReached: input.rowLimitReached ?? false, dataTimestamp: input.dataTimestamp ?? new Date('2026-11-23T10:00:00.000Z') });
    },
    storeBatches: async (input) => {
      const executionId = await insertDatasourceAndExecution(database, organization.id, input.dataKey);
      await store.begin({ executionId, organizationId: organization.id, dataKey: input.dataKey, kind: 'rows', timeZone: input.timeZone ?? 'UTC' });
      const writer = new ResultWriter(store, executionId);
      writer.setColumns(input.columns);
      for await (const batch of input.batches) await writer.write(batch);
      return writer.finish({ rowLimitReached: false, dataTimestamp: new Date('2026-11-23T10:00:00.000Z') });
    },
    storeDocument: async (input) => {
      const organizationId = input.organizationId ?? organization.id;
      const executionId = await insertDatasourceAndExecution(database, organizationId, input.dataKey);
      return storeDocument(store, {
        executionId,
        organizationId,
        dataKey: input.dataKey,
        timeZone: 'UTC',
        document: input.document,
        dataTimestamp: new Date('2026-11-23T11:00:00.000Z'),
      });
    },
    request: (path, headers, method) => rawRequest(server.url, path, headers, method),
    close: async () => {
      await server.close();
      await database.drop();
    },
  };
}

/** `Authorization` header value for a data access token. */
export const dataAuth = (token: string) => ({ Authorization: `Data ${token}` });
