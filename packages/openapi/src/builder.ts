import type { z } from 'zod';
import { JSONAPI_MEDIA_TYPE, JSON_MEDIA_TYPE, type ResourceDefinition } from '@sightline/jsonapi';
import { jsonSchemaOf, type JsonSchema } from './json-schema.js';
import { requestDocumentSchema, resourceObjectSchema } from './resources.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Which server answers an operation: the API server or the data server (or both, e.g. `/health`). */
export type ServerName = 'api' | 'data';

/**
 * Who may call an operation: `Api` (`Authorization: Api <secret>`), `Data` (`Authorization: Data
 * <token>`), `Viewer` (a shared dashboard page's viewer token), `none` (open), `query-token` (a signed
 * `?token=` in the URL).
 */
export type Access = 'Api' | 'Data' | 'Viewer' | 'none' | 'query-token';

/** A request or response body: its media type and schema. */
export interface Body {
  mediaType: string;
  schema: JsonSchema;
  description?: string;
}

/** One response of an operation; no body for 204 and redirects. */
export interface ResponseSpec {
  description: string;
  content?: readonly Body[];
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

/** A query parameter. */
export interface QueryParameter {
  name: string;
  description: string;
  schema: JsonSchema;
  required?: boolean;
}

/** One operation (a method on a path) as a route registers it. */
export interface OperationSpec {
  method: HttpMethod;
  /** OpenAPI path template (`/reports/{id}`); path parameters are derived from it. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  /** Default `['api']`. */
  servers?: readonly ServerName[];
  query?: readonly QueryParameter[];
  requestBody?: Body & { required: boolean };
  responses: Readonly<Record<number, ResponseSpec>>;
  /** Descriptions of path parameters (default: the name). */
  pathParameters?: Readonly<Record<string, string>>;
}

export interface DocumentOptions {
  title: string;
  version: string;
  description: string;
  /** URL of the API server (relative `/` = where the document was fetched from). */
  apiServerUrl: string;
  /** URL of the data server, when known. */
  dataServerUrl?: string;
}

/** An OpenAPI 3.1 document (plain JSON). */
export type OpenApiDocument = { openapi: '3.1.1'; paths: Record<string, Record<string, unknown>>; [key: string]: unknown };

const ERROR_DOCUMENT: JsonSchema = {
  type: 'object',
  required: ['errors'],
  properties: {
    errors: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: {
          status: { type: 'string' },
          code: { type: 'string' },
          title: { type: 'string' },
          detail: { type: 'string' },
          source: { type: 'object', properties: { pointer: { type: 'string' }, parameter: { type: 'string' }, header: { type: 'string' } } },
          meta: { type: 'object' },
        },
      },
    },
  },
};

const ANY_RESOURCE: JsonSchema = {
  type: 'object',
  required: ['type', 'id'],
  properties: {
    type: { type: 'string' },
    id: { type: 'string' },
    attributes: { type: 'object' },
    relationships: { type: 'object' },
    links: { type: 'object' },
    meta: { type: 'object' },
  },
};

/**
 * Collects operations and the JSON:API resource schemas they use, and builds one OpenAPI 3.1
 * document. Resource schemas are registered once under `components.schemas` (named after the
 * resource type) and referenced by `$ref`.
 */
export class OpenApiBuilder {
  private readonly operations: OperationSpec[] = [];
  private readonly schemas: Record<string, JsonSchema> = {
    error_document: ERROR_DOCUMENT,
    any_resource: ANY_RESOURCE,
  };

  /** Adds an operation. @throws Error when the same method and path was added before */
  add(operation: OperationSpec): this {
    if (this.operations.some((o) => o.method === operation.method && o.path === operation.path)) {
      throw new Error(`OpenAPI: ${operation.method.toUpperCase()} ${operation.path} is described twice`);
    }
    if (this.operations.some((o) => o.operationId === operation.operationId)) throw new Error(`OpenAPI: operationId ${operation.operationId} is used twice`);
    this.operations.push(operation);
    return this;
  }

  /** All operations added so far. */
  list(): readonly OperationSpec[] {
    return this.operations;
  }

  private ref(name: string, schema: () => JsonSchema): JsonSchema {
    this.schemas[name] ??= schema();
    return { $ref: `#/components/schemas/${name}` };
  }

  /** `application/vnd.api+json` document holding one resource (`many`: a list) of `definition`, with `included`. */
  resourceDocument(definition: ResourceDefinition, many = false): Body {
    const resource = this.ref(definition.type, () => resourceObjectSchema(definition));
    const name = `${definition.type}_${many ? 'list_' : ''}document`;
    const schema = this.ref(name, () => ({
      type: 'object',
      required: ['data'],
      properties: {
        data: many ? { type: 'array', items: resource } : resource,
        included: { type: 'array', items: { $ref: '#/components/schemas/any_resource' } },
        meta: { type: 'object' },
        links: { type: 'object' },
        jsonapi: { type: 'object' },
      },
    }));
    return { mediaType: JSONAPI_MEDIA_TYPE, schema };
  }

  /** The Create (`'create'`) or Update (`'update'`) request document of `definition`. */
  requestDocument(definition: ResourceDefinition, op: 'create' | 'update'): Body & { required: true } {
    const schema = this.ref(`${definition.type}_${op}_document`, () => requestDocumentSchema(definition, op));
    return { mediaType: JSONAPI_MEDIA_TYPE, schema, required: true };
  }

  /** A plain JSON body described by a zod schema (registered under `name`). */
  json(name: string, schema: z.ZodType): Body {
    return { mediaType: JSON_MEDIA_TYPE, schema: this.ref(name, () => jsonSchemaOf(schema)) };
  }

  /** A plain JSON body described by a JSON Schema (registered under `name`). */
  jsonSchema(name: string, schema: JsonSchema): Body {
    return { mediaType: JSON_MEDIA_TYPE, schema: this.ref(name, () => schema) };
  }

  /** Builds the document. */
  build(options: DocumentOptions): OpenApiDocument {
    const servers: Record<ServerName, { url: string; description: string }> = {
      api: { url: options.apiServerUrl, description: 'API server' },
      data: { url: options.dataServerUrl ?? '{data_server}', description: 'Data server (results, schemas and export files by data token)' },
    };
    const dataServer = options.dataServerUrl
      ? servers.data
      : { ...servers.data, variables: { data_server: { default: 'http://localhost:3001', description: 'Base URL of the data server' } } };
    const paths: Record<string, Record<string, unknown>> = {};
    const tags = new Set<string>();
    for (const op of this.operations) {
      tags.add(op.tag);
      const item = (paths[op.path] ??= {});
      const names = op.servers ?? ['api'];
      if (names.length !== 1 || names[0] !== 'api') {
        const list = names.map((n) => (n === 'data' ? dataServer : servers.api));
        const previous = item.servers as unknown[] | undefined;
        if (previous && JSON.stringify(previous) !== JSON.stringify(list)) throw new Error(`OpenAPI: operations on ${op.path} disagree on their servers`);
        item.servers = list;
      }
      item[op.method] = this.operationObject(op);
    }
    return {
      openapi: '3.1.1',
      info: { title: options.title, version: options.version, description: options.description },
      jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
      servers: [servers.api],
      tags: [...tags].sort().map((name) => ({ name })),
      paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
      components: {
        schemas: this.schemas,
        responses: {
          error: {
            description: 'A JSON:API error document (4xx, 5xx)',
            content: { [JSONAPI_MEDIA_TYPE]: { schema: { $ref: '#/components/schemas/error_document' } } },
          },
        },
        securitySchemes: {
          Api: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'An API key: `Authorization: Api <secret>`.' },
          Data: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'A data access token from the API server: `Authorization: Data <token>`.' },
          Viewer: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: "A shared dashboard page's viewer token: `Authorization: Viewer <token>`.",
          },
          FileToken: { type: 'apiKey', in: 'query', name: 'token', description: 'The signed token of an export file URL (from Get Export Job).' },
        },
      },
      security: [{ Api: [] }],
    };
  }

  private operationObject(op: OperationSpec): Record<string, unknown> {
    const pathNames = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    const parameters = [
      ...pathNames.map((name) => ({ name, in: 'path', required: true, description: op.pathParameters?.[name] ?? name, schema: { type: 'string' } })),
      ...(op.query ?? []).map((q) => ({ name: q.name, in: 'query', required: q.required ?? false, description: q.description, schema: q.schema })),
    ];
    const content = (bodies: readonly Body[]) =>
      Object.fromEntries(bodies.map((b) => [b.mediaType, { schema: b.schema, ...(b.description ? { description: b.description } : {}) }]));
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.headers ? { headers: r.headers } : {}),
        ...(r.content ? { content: content(r.content) } : {}),
      };
    }
    responses.default = { $ref: '#/components/responses/error' };
    const security = { Api: [{ Api: [] }], Data: [{ Data: [] }], Viewer: [{ Viewer: [] }], none: [], 'query-token': [{ FileToken: [] }] }[op.access];
    return {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [op.tag],
      security,
      ...(parameters.length ? { parameters } : {}),
      ...(op.requestBody
        ? {
            requestBody: {
              required: op.requestBody.required,
              content: {
                [op.requestBody.mediaType]: { schema: op.requestBody.schema },
                // writes also accept plain JSON (STYLE §5): same schema
                ...(op.requestBody.mediaType === JSONAPI_MEDIA_TYPE ? { [JSON_MEDIA_TYPE]: { schema: op.requestBody.schema } } : {}),
              },
            },
          }
        : {}),
      responses,
    };
  }
}
