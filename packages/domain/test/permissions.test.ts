import { describe, expect, it } from '@jest/globals';
import { ForbiddenError } from '../src/errors.js';
import { Principal } from '../src/api-keys/permissions.js';

describe('Principal', () => {
  it('Manage implies View, not the reverse', () => {
    const p = new Principal('o', 'k', [{ permission: 'Manage Dashboards', datasourceIds: null }]);
    expect(p.has('View Dashboards')).toBe(true);
    expect(p.has('Manage Dashboards')).toBe(true);
    const v = new Principal('o', 'k', [{ permission: 'View Dashboards', datasourceIds: null }]);
    expect(v.has('Manage Dashboards')).toBe(false);
  });

  it('requireAny throws 403 naming the alternatives', () => {
    const p = new Principal('o', 'k', [{ permission: 'View Users', datasourceIds: null }]);
    expect(() => p.requireAny('View Users')).not.toThrow();
    expect(() => p.requireAny('Manage Users', 'Manage Dashboards')).toThrow(ForbiddenError);
    expect(() => p.requireAny('Manage Users')).toThrow(/"Manage Users"/);
  });

  it('computes datasource scopes as the union of matching grants', () => {
    const p = new Principal('o', 'k', [
      { permission: 'Manage Dashboards', datasourceIds: ['a', 'b'] },
      { permission: 'Manage Alerts', datasourceIds: ['c'] },
      { permission: 'View Datasources', datasourceIds: null },
    ]);
    expect(p.datasourceScope('Manage Dashboards')).toEqual(new Set(['a', 'b']));
    expect(p.datasourceScope('Manage Dashboards', 'Manage Alerts')).toEqual(new Set(['a', 'b', 'c']));
    expect(p.datasourceScope('View Datasources')).toBe('all');
    expect(p.canUseDatasource('c', 'Manage Dashboards')).toBe(false);
    expect(p.canUseDatasource('c', 'Manage Alerts')).toBe(true);
    expect(p.canUseDatasource('z', 'View Dashboards')).toBe(false);
    expect(p.canUseDatasource('a', 'View Dashboards')).toBe(true);
  });
});
