// The typed client's committed types must be what the route descriptions generate today: a route,
// resource or field-table change without `npm run generate:client` fails here.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { generateClientFiles } from '../scripts/generate-client.js';

describe('packages/client/src/schema.ts', () => {
  it('is up to date with the OpenAPI document (run `npm run generate:client`)', async () => {
    const files = await generateClientFiles();
    expect(Object.keys(files)).toEqual(['packages/client/src/schema.ts']);
    for (const [file, text] of Object.entries(files)) {
      const committed = await readFile(file, 'utf8');
      expect(committed === text ? 'up to date' : `${file} is stale: run npm run generate:client`).toBe('up to date');
    }
  }, 60_000);
});
