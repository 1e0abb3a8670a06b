import type { OpenApiBuilder } from './builder.js';
import type { JsonSchema } from './json-schema.js';

const cell: JsonSchema = { type: ['number', 'string', 'boolean', 'null'] };

/** `ResultData` (contract §3.14): what the data server and Get Execution Data answer. */
export const RESULT_DATA_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['fields', 'rows'],
  properties: {
    execution_id: { type: 'string' },
    data_timestamp: { type: 'integer', description: 'Unix seconds' },
    sql_rows: { type: 'integer' },
    sql_columns: { type: 'integer' },
    size_in_bytes: { type: 'integer' },
    time_zone: { type: ['string', 'null'] },
    row_limit_reached: { type: 'boolean' },
    offset: { type: 'integer' },
    limit: { type: ['integer', 'null'], description: 'The requested row limit; null when only `offset` was given (to the end).' },
    fields: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, data_type: { type: 'string' } } } },
    rows: { type: 'array', items: { type: 'array', items: cell } },
  },
};

/** What an export file is served as: PDF and PNG pictures, CSV (`text/csv; charset=utf-8`) and Excel. */
const EXPORT_FILE_MEDIA_TYPES = ['application/pdf', 'image/png', 'text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'] as const;

const dataKey = { data_key: 'The data key from an execution or report data answer. It contains `/`: send it as is, not URL-encoded.' };

/** The operations of the data server (`apps/data-server`), added to `builder`. */
export function addDataServerOperations(builder: OpenApiBuilder): void {
  const resultData = builder.jsonSchema('result_data', RESULT_DATA_SCHEMA);
  builder.add({
    method: 'get',
    path: '/results/{data_key}',
    operationId: 'getResultData',
    tag: 'Data server',
    access: 'Data',
    servers: ['data'],
    pathParameters: dataKey,
    summary: 'Get result data',
    description:
      'The newest result of a data key, as JSON (`ResultData`), CSV or NDJSON. With `Accept-Encoding: gzip` the body is gzip-compressed. `HEAD` answers the headers only.',
    query: [
      { name: 'format', description: 'Result format (default: the format the token was issued for).', schema: { enum: ['json', 'csv', 'ndjson'] } },
      { name: 'offset', description: 'Rows to skip.', schema: { type: 'integer', minimum: 0 } },
      { name: 'limit', description: 'Largest number of rows.', schema: { type: 'integer', minimum: 0 } },
    ],
    responses: {
      200: {
        description: 'The result',
        content: [resultData, { mediaType: 'text/csv', schema: { type: 'string' } }, { mediaType: 'application/x-ndjson', schema: { type: 'string' } }],
      },
    },
  });
  builder.add({
    method: 'get',
    path: '/schemas/{data_key}',
    operationId: 'getSchemaData',
    tag: 'Data server',
    access: 'Data',
    servers: ['data'],
    pathParameters: dataKey,
    summary: 'Get schema data',
    description: 'The stored schema document of a data key (from Get Datasource Schema).',
    responses: {
      200: { description: 'The schema document', content: [{ mediaType: 'application/json', schema: { type: 'object' } }] },
      204: { description: 'No schema stored yet (the schema query has not finished): poll again' },
    },
  });
  const file = {
    tag: 'Data server',
    access: 'query-token',
    servers: ['data'],
    summary: 'Download an export file',
    description: 'The file of a finished export job, at the signed URL that Get Export Job hands out.',
    query: [{ name: 'token', description: 'The signed file token of the URL.', schema: { type: 'string' }, required: true }],
    responses: {
      200: {
        description: 'The file, with the media type of its kind',
        content: EXPORT_FILE_MEDIA_TYPES.map((mediaType) => ({ mediaType, schema: { type: 'string', contentMediaType: mediaType } })),
      },
    },
  } as const;
  builder.add({ ...file, method: 'get', path: '/exports/{id}', operationId: 'getExportFile', pathParameters: { id: 'Export job id' } });
  builder.add({
    ...file,
    method: 'get',
    path: '/exports/{id}/{name}',
    operationId: 'getExportFileNamed',
    pathParameters: { id: 'Export job id', name: "File name (ignored; for the browser's save dialog)" },
  });
}

/** `GET /health` of both servers. */
export function addHealthOperation(builder: OpenApiBuilder): void {
  builder.add({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    tag: 'Health',
    access: 'none',
    servers: ['api', 'data'],
    summary: 'Health check',
    description: '200 when the server and its database answer; 503 otherwise.',
    responses: {
      200: {
        description: 'Healthy',
        content: [
          builder.jsonSchema('health', {
            type: 'object',
            required: ['status', 'service'],
            properties: { status: { const: 'ok' }, service: { type: 'string' } },
          }),
        ],
      },
    },
  });
}
