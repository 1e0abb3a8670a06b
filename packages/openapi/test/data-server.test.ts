// The data server's operations as the data server answers them (each a mismatch the contract test
// test/openapi-contract.int.test.ts found between the description and a live answer).
import { describe, expect, it } from '@jest/globals';
import { OpenApiBuilder, addDataServerOperations } from '../src/index.js';

const document = (() => {
  const b = new OpenApiBuilder();
  addDataServerOperations(b);
  return b.build({ title: 't', version: '1', description: 'd', apiServerUrl: '/', dataServerUrl: 'http://data.test' }) as any;
})();

describe('data server operations', () => {
  it('Get Schema Data may answer 204 while the schema query runs', () => {
    expect(Object.keys(document.paths['/schemas/{data_key}'].get.responses)).toEqual(['200', '204', 'default']);
  });

  it('a result page without a limit says limit null', () => {
    expect(document.components.schemas.result_data.properties.limit.type).toEqual(['integer', 'null']);
  });

  it('an export file is served with the media type of its kind', () => {
    for (const path of ['/exports/{id}', '/exports/{id}/{name}']) {
      expect(Object.keys(document.paths[path].get.responses['200'].content)).toEqual([
        'application/pdf',
        'image/png',
        'text/csv',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      ]);
    }
  });
});
