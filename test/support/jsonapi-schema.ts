import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

// The official JSON:API 1.0 schema (draft-06 style) lives in ../shared/jsonapi; a vendored copy in
// test/fixtures keeps tests working in a clone without shared/.
function loadSchema(): Record<string, unknown> {
  const shared = path.resolve('../shared/jsonapi/schema-1.0.json');
  const vendored = path.resolve('test/fixtures/jsonapi-schema-1.0.json');
  return JSON.parse(readFileSync(existsSync(shared) ? shared : vendored, 'utf8')) as Record<string, unknown>;
}

const schema = loadSchema();
const ajv = (schema.$schema as string | undefined)?.includes('2020')
  ? new Ajv2020({ allErrors: true, strict: false })
  : new Ajv({ allErrors: true, strict: false });
// Links are URI references; the schema's `format: "uri"` would reject relative ones.
ajv.addFormat('uri', { type: 'string', validate: (v: string) => !/\s/.test(v) });
ajv.addFormat('uri-reference', { type: 'string', validate: (v: string) => !/\s/.test(v) });
const compiled = ajv.compile(schema);

/** Validates a response document against the official JSON:API 1.0 schema; throws with the errors. */
export function expectValidJsonApi(document: unknown): void {
  if (!compiled(document)) {
    throw new Error(`Not a valid JSON:API document: ${ajv.errorsText(compiled.errors)}\n${JSON.stringify(document).slice(0, 2000)}`);
  }
}
