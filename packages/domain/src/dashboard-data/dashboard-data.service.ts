import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { Principal } from '../api-keys/permissions.js';
import type { Clock } from '../clock.js';
import type { Dashboard } from '../dashboards/dashboard.types.js';
import { DASHBOARD_VIEW_PERMISSIONS } from '../dashboards/dashboard.permissions.js';
import type { DashboardService } from '../dashboards/dashboard.service.js';
import type { DatasourceService } from '../datasources/datasource.service.js';
import type { Datasource } from '../datasources/datasource.types.js';
import { dialectOf } from '../drivers/index.js';
import { NotFoundError, ValidationError, isAppError } from '../errors.js';
import { computeDataKey } from '../executions/data-key.js';
import { ExecutionRepository } from '../executions/execution.repository.js';
import type { ExecutionService } from '../executions/execution.service.js';
import type { Execution, ExecutionStatus } from '../executions/execution.types.js';
import { isFinished } from '../executions/execution.types.js';
import type { Filter } from '../filters/filter.types.js';
import type { FilterService } from '../filters/filter.service.js';
import type { Knex } from 'knex';
import type { OrganizationService } from '../organizations/organization.service.js';
import type { Organization } from '../organizations/organization.types.js';
import { compileQuery, isValidTimeZone, parseTimerange, type FilterDefinition, type InputParameters, type SnippetDefinition } from '../query/index.js';
import type { Report } from '../reports/report.types.js';
import type { ReportService } from '../reports/report.service.js';
import { PgResultStore } from '../results/pg-result-store.js';
import type { ResultStore, StoredResult } from '../results/result-store.js';
import type { SqlSnippetService } from '../sql-snippets/sql-snippet.service.js';
import type { CsvOptions, DataTokens } from '../tokens/data-token.js';
import { ContentVersionRepository, type ExecutionState, type PollState, type ResultState } from './content-version.repository.js';
import { effectiveRule, isCurrent, type FreshnessRule } from './freshness.js';

const gunzip = promisify(gunzipCallback);

/** Suggested delay (s) before the next status check while something runs, and when all is settled. */
const DELAY_RUNNING_SECONDS = 2;
const DELAY_IDLE_SECONDS = 60;
/** A failed query is not re-run by polls more often than this (it would fail again at every poll). */
const FAILED_RETRY_SECONDS = 60;
/** Most drop-down options read from a stored result. */
const MAX_OPTIONS = 10_000;
/** Compiled dashboards kept per process (dashboard × parameter set), least recently used dropped first. */
const COMPILED_CACHE_ENTRIES = 500;

const SQL_DROPDOWNS = new Set(['dropdown', 'dropdown_multi', 'dropdown_dynamic', 'dropdown_multi_dynamic']);
const STATIC_DROPDOWNS = new Set(['dropdown', 'dropdown_multi']);

/**
 * One report or filter of a dashboard. Reports and SQL drop-downs have a query (`compiled`, or an
 * `error` when it cannot run); other filters (manual drop-downs, inputs, ranges, …) have none (`manual`).
 */
interface Target {
  kind: 'reports' | 'filters';
  id: string;
  updatedAt: Date;
  rule: FreshnessRule;
  manual?: boolean;
  /** The datasource the key must be allowed to use to see this target (reports, SQL drop-downs). */
  datasourceId?: string;
  compiled?: { datasource: Datasource; dataKey: string; sql: string; values: unknown[]; timeZone: string; rQuery: string | null };
  error?: string;
}

export interface DataKeyStatus {
  result_status: ExecutionStatus | 'no-data';
  data_timestamp?: number;
  data_current?: boolean;
  data_access_token?: string;
  execution_id: string | null;
  execution_status: ExecutionStatus | null;
  running: boolean;
}

/**
 * Poll Dashboard Status output (contract §4.3.19); maps are keyed by report and filter id and list
 * every report and filter of the dashboard: `ReportStatus`/`ReportStatusError`; `ManualFilterStatus`
 * (`{updated_at}`, every filter without a query), SQL drop-down status (`{data_key, updated_at}`) or
 * `FilterStatusError`.
 */
export interface DashboardStatus {
  reports: Record<string, { data_key: string; updated_at: string } | { error: string; updated_at: string }>;
  filters: Record<string, { data_key: string; updated_at: string } | { updated_at: string; data_key?: undefined } | { error: string; updated_at: string }>;
  data_keys: Record<string, DataKeyStatus>;
  updated_at: string;
  status_check_delay: number;
}

/** One report of an export with the state of its data (see `exportTargets`). */
export interface ExportTarget {
  report: Report;
  rule: FreshnessRule;
  /** The data key under the export's parameters; absent when the query does not compile. */
  dataKey?: string;
  /** Why the query cannot run (compile error, missing SQL). */
  error?: string;
  /** The newest stored result of `dataKey`. */
  result?: StoredResult;
  /** `result` is current under the report's refresh rate and anchor time. */
  current: boolean;
  /** The compiled query (what an execution or an unlimited CSV export runs). */
  query?: { datasource: Datasource; sql: string; values: unknown[]; timeZone: string; rQuery: string | null };
}

/** The reports an export shows, under the merged parameters and the dashboard's time zone. */
export interface ExportTargets {
  dashboard: Dashboard;
  organization: Organization;
  parameters: InputParameters;
  /** Time zone data times are shown in (the dashboard's, else the organization's). */
  timeZone: string;
  targets: ExportTarget[];
}

export interface ReportDataRequest {
  parameters?: InputParameters;
  dataFormat?: 'json' | 'csv';
  csv?: Partial<CsvOptions>;
}

/** Get Drop-Down Filter Options output: `data_timestamp` only for SQL drop-downs (contract §3.14). */
export interface FilterOptions {
  data_timestamp?: number | null;
  options: { values: string[]; value_names: string[]; parent_values?: string[] };
}

export interface DashboardDataServiceDeps {
  db: Knex;
  dashboards: DashboardService;
  reports: ReportService;
  filters: FilterService;
  datasources: DatasourceService;
  sqlSnippets: SqlSnippetService;
  executions: ExecutionService;
  organizations: OrganizationService;
  resultStore: ResultStore;
  tokens: DataTokens;
  clock: Clock;
}

/** Request parameters over the dashboard's saved defaults (filters merged by variable name). */
export function mergeParameters(defaults: InputParameters | null, request: InputParameters | undefined): InputParameters {
  const base = defaults ?? {};
  const req = request ?? {};
  const filters = new Map<string, { variable_name: string; selected_values: Array<string | number | boolean | null> }>();
  for (const f of base.filters ?? []) filters.set(f.variable_name, f);
  for (const f of req.filters ?? []) filters.set(f.variable_name, f);
  const out: InputParameters = {};
  const timerange = req.timerange ?? base.timerange;
  const aggregation = req.aggregation ?? base.aggregation;
  const tz = req.tz ?? base.tz;
  if (timerange !== undefined) out.timerange = timerange;
  if (aggregation !== undefined) out.aggregation = aggregation;
  if (tz !== undefined) out.tz = tz;
  if (filters.size) out.filters = [...filters.values()];
  return out;
}

/**
 * The dashboard time zone in effect: none (`disabled`), the organization's, a fixed one, or the
 * `tz` input restricted to `allowed_time_zones` (param-language §7).
 * @throws ValidationError for a `tz` outside the allowed ones
 */
export function resolveDashboardTimeZone(dashboard: Dashboard, organization: Organization, tz: string | undefined): string | null {
  const config = dashboard.timeZoneConfig;
  switch (config.type) {
    case 'organization':
      return organization.timeZone;
    case 'fixed':
      return config.fixedTimeZone ?? null;
    case 'input': {
      const allowed = config.allowedTimeZones ?? [];
      if (tz === undefined || tz === '') return allowed[0] ?? null;
      if (allowed.length && !allowed.includes(tz)) {
        throw new ValidationError(`tz "${tz}" is not one of this dashboard's allowed time zones (${allowed.join(', ')})`, {
          source: { pointer: '/parameters/tz' },
          code: 'time_zone_not_allowed',
        });
      }
      return tz;
    }
    default:
      return null;
  }
}

/** A `Date` that records whether its time was read (`getTime`): did a compilation depend on "now"? */
class WatchedDate extends Date {
  read = false;
  override getTime(): number {
    this.read = true;
    return super.getTime();
  }
}

/** Every target of a dashboard compiled under one parameter set, before any key's permissions apply. */
interface CompiledDashboard {
  targets: Target[];
  organization: Organization;
  dashboard: Dashboard;
  reports: Report[];
}

interface CompiledCacheEntry {
  /** The organization's content version the entry was compiled under (see `content_versions`). */
  version: string;
  /** The second (epoch) whose "now" the compilation read (relative time ranges), else null. */
  second: number | null;
  value: CompiledDashboard;
}

/**
 * The dashboard read path: data keys for every report and SQL drop-down of a dashboard under given
 * parameters, their state from the result store, and (only when asked) executions for stale data.
 *
 * Status polls are read-mostly: what a poll compiles (SQL, bound values, data keys) is kept per
 * dashboard and parameter set under the organization's content version, which database triggers
 * bump with every change to what the queries are compiled from. A poll reads that version (one
 * small query) and recompiles only when it moved, so a change made through any process is seen by
 * the next poll. A compilation that read the current time is good for that second only.
 */
export class DashboardDataService {
  private readonly compiledCache = new Map<string, CompiledCacheEntry>();

  constructor(private readonly deps: DashboardDataServiceDeps) {}

  /**
   * Compiles every target of a dashboard (through the cache for whole dashboards by id) and keeps
   * those the key may see.
   * @param dashboardOrId a dashboard id (loaded here, with everything its queries need) or a
   *   stand-in dashboard without id (a static drop-down asked for outside any dashboard)
   */
  private async prepare(
    principal: Principal,
    dashboardOrId: Dashboard | string,
    request: InputParameters | undefined,
    only?: { reportId?: string; filterId?: string },
  ): Promise<CompiledDashboard> {
    const org = principal.organizationId;
    const all =
      typeof dashboardOrId === 'string' && !only
        ? await this.compiledDashboard(org, dashboardOrId, request)
        : await this.compileTargets(org, dashboardOrId, request, only, this.deps.clock.now());
    return this.visibleTo(principal, all);
  }

  /** `compileTargets` for a whole dashboard, from the cache while the content version holds. */
  private async compiledDashboard(organizationId: string, dashboardId: string, request: InputParameters | undefined): Promise<CompiledDashboard> {
    const version = await new ContentVersionRepository(this.deps.db).find(organizationId);
    return this.cachedCompilation(organizationId, dashboardId, request, version) ?? this.compileAndCache(organizationId, dashboardId, request, version);
  }

  private cacheKey(organizationId: string, dashboardId: string, request: InputParameters | undefined): string {
    return `${organizationId}\u0000${dashboardId}\u0000${JSON.stringify(request ?? null)}`;
  }

  /** The cached compilation, if it was made under `version` (and, if it read "now", this second). */
  private cachedCompilation(
    organizationId: string,
    dashboardId: string,
    request: InputParameters | undefined,
    version: string | undefined,
  ): CompiledDashboard | undefined {
    const key = this.cacheKey(organizationId, dashboardId, request);
    const hit = this.compiledCache.get(key);
    if (!hit || version === undefined || hit.version !== version) return undefined;
    if (hit.second !== null && hit.second !== Math.floor(this.deps.clock.now().getTime() / 1000)) return undefined;
    // least recently used first: a hit moves to the end
    this.compiledCache.delete(key);
    this.compiledCache.set(key, hit);
    return hit.value;
  }

  /**
   * Compiles a whole dashboard and caches it under `version`, which must have been read before
   * the content is (a change committed in between then only makes the entry look older).
   */
  private async compileAndCache(
    organizationId: string,
    dashboardId: string,
    request: InputParameters | undefined,
    version: string | undefined,
  ): Promise<CompiledDashboard> {
    const now = new WatchedDate(this.deps.clock.now().getTime());
    const transient = { failed: false };
    const value = await this.compileTargets(organizationId, dashboardId, request, undefined, now, transient);
    if (version !== undefined && !transient.failed) {
      const key = this.cacheKey(organizationId, dashboardId, request);
      this.compiledCache.delete(key);
      this.compiledCache.set(key, { version, second: now.read ? Math.floor(now.valueOf() / 1000) : null, value });
      if (this.compiledCache.size > COMPILED_CACHE_ENTRIES) this.compiledCache.delete(this.compiledCache.keys().next().value!);
    }
    return value;
  }

  /** The targets of a compiled dashboard the key may see (and the reports among them). */
  private visibleTo(principal: Principal, all: CompiledDashboard): CompiledDashboard {
    const visible = (datasourceId: string | undefined) => datasourceId === undefined || principal.canUseDatasource(datasourceId, ...DASHBOARD_VIEW_PERMISSIONS);
    return { ...all, targets: all.targets.filter((t) => visible(t.datasourceId)), reports: all.reports.filter((r) => visible(r.datasourceId)) };
  }

  /**
   * Compiles every target of a dashboard, whatever the key may see; compile errors become
   * per-target errors. `transient.failed` is set when a datasource could not be read for another
   * reason than not existing (such a result is not cached).
   */
  private async compileTargets(
    org: string,
    dashboardOrId: Dashboard | string,
    request: InputParameters | undefined,
    only: { reportId?: string; filterId?: string } | undefined,
    now: Date,
    transient: { failed: boolean } = { failed: false },
  ): Promise<CompiledDashboard> {
    // One read of everything the dashboard's queries need (reports, the filters and snippets they use).
    const [organization, content] = await Promise.all([
      this.deps.organizations.get(org),
      typeof dashboardOrId === 'string'
        ? this.deps.dashboards.getContent(org, dashboardOrId)
        : this.deps.sqlSnippets.listAll(org).then((snippets) => ({
            dashboard: dashboardOrId,
            reports: [] as Report[],
            filters: [] as Filter[],
            filterDefinitions: [] as FilterDefinition[],
            snippets,
          })),
    ]);
    const dashboard = content.dashboard;
    const reports = only?.filterId ? [] : content.reports;
    const dashboardFilters = only?.reportId ? [] : content.filters;
    const filterDefs = content.filterDefinitions;
    const snippets = content.snippets;
    const parameters = mergeParameters(dashboard.defaultParameters, request);
    const dashboardTimeZone = resolveDashboardTimeZone(dashboard, organization, parameters.tz);
    this.checkRequest(parameters, dashboard, dashboardTimeZone ?? organization.timeZone, now);
    const { tz: _tz, ...compileParameters } = parameters;
    void _tz;
    const snippetDefs: SnippetDefinition[] = snippets.map((s) => ({ name: s.name, text: s.text, params: s.params }));
    const datasources = new Map<string, Datasource | undefined>();
    const datasource = async (id: string) => {
      if (!datasources.has(id)) {
        datasources.set(
          id,
          await this.deps.datasources.getByIdUnchecked(org, id).catch((err: unknown) => {
            if (!isAppError(err) || err.status !== 404) transient.failed = true;
            return undefined;
          }),
        );
      }
      return datasources.get(id);
    };
    const compile = async (target: Target, datasourceId: string, sql: string, params: InputParameters, rQuery: string | null, defs: FilterDefinition[]) => {
      try {
        const ds = await datasource(datasourceId);
        if (!ds) throw new ValidationError(`Datasource ${datasourceId} not found`);
        const dialect = dialectOf(ds.databaseType);
        if (!dialect) throw new ValidationError(`Database type "${ds.databaseType}" is not supported by this build`);
        const compiled = compileQuery({
          sql,
          dialect,
          snippets: snippetDefs,
          filters: defs,
          parameters: params,
          dataTimeZone: ds.dataTimeZone,
          dashboardTimeZone,
          now,
          builtins: { dashboardId: dashboard.id, dashboardName: dashboard.name },
        });
        const timeZone = dashboardTimeZone ?? ds.dataTimeZone;
        const dataKey = computeDataKey({
          organizationId: org,
          kind: target.kind,
          ownerId: target.id,
          datasourceId: ds.id,
          sql: compiled.sql,
          values: compiled.values,
          timeZone,
          rQuery,
        });
        target.compiled = { datasource: ds, dataKey, sql: compiled.sql, values: compiled.values, timeZone, rQuery };
      } catch (err) {
        if (!isAppError(err)) throw err;
        target.error = err.detail ?? err.title;
      }
    };
    const targets: Target[] = [];
    for (const report of reports) {
      if (only?.reportId && report.id !== only.reportId) continue;
      const target: Target = {
        kind: 'reports',
        id: report.id,
        datasourceId: report.datasourceId,
        updatedAt: report.updatedAt,
        rule: effectiveRule(dashboard, report, organization.timeZone),
      };
      if (!report.sqlQuery?.trim()) target.error = 'The report has no SQL query';
      else await compile(target, report.datasourceId, report.sqlQuery, compileParameters, report.rQueryEnabled ? report.rQuery : null, filterDefs);
      targets.push(target);
    }
    const filterList = only?.filterId ? [await this.deps.filters.getByIdUnchecked(org, only.filterId)] : dashboardFilters;
    for (const filter of filterList) {
      const noRule = { maxAgeMinutes: dashboard.dataRefreshRate, anchor: null, organizationTimeZone: organization.timeZone };
      if (!SQL_DROPDOWNS.has(filter.controlType)) {
        // manual drop-downs and every other filter without a query: listed with their updated_at
        targets.push({ kind: 'filters', id: filter.id, updatedAt: filter.updatedAt, rule: noRule, manual: true });
        continue;
      }
      const datasourceId = filter.datasourceId ?? undefined;
      if (!filter.sqlQuery?.trim() || !filter.datasourceId) {
        targets.push({
          kind: 'filters',
          id: filter.id,
          datasourceId,
          updatedAt: filter.updatedAt,
          rule: noRule,
          error: 'The drop-down has no SQL query or no datasource',
        });
        continue;
      }
      const isStatic = STATIC_DROPDOWNS.has(filter.controlType);
      const rule = isStatic
        ? { maxAgeMinutes: filter.dataRefreshRate ?? dashboard.dataRefreshRate, anchor: null, organizationTimeZone: organization.timeZone }
        : effectiveRule(dashboard, { dataRefreshRate: filter.dataRefreshRate }, organization.timeZone);
      const target: Target = { kind: 'filters', id: filter.id, datasourceId, updatedAt: filter.updatedAt, rule };
      // Static SQL drop-downs are plain SQL: they never see dashboard parameters.
      await compile(target, filter.datasourceId, filter.sqlQuery, isStatic ? {} : compileParameters, null, isStatic ? [] : filterDefs);
      targets.push(target);
    }
    return { targets, organization, dashboard, reports };
  }

  /**
   * Request-level checks (422 for the whole request rather than an error per report): the
   * timerange syntax, the time zone name, aggregation options the dashboard allows.
   */
  private checkRequest(parameters: InputParameters, dashboard: Dashboard, zone: string, now: Date): void {
    if (parameters.tz !== undefined && parameters.tz !== '' && !isValidTimeZone(parameters.tz)) {
      throw new ValidationError(`tz "${parameters.tz}" is not an IANA time zone`, { source: { pointer: '/parameters/tz' } });
    }
    if (parameters.timerange !== undefined && parameters.timerange !== '') {
      try {
        parseTimerange(parameters.timerange, now, zone);
      } catch (err) {
        throw new ValidationError(isAppError(err) ? (err.detail ?? err.title) : 'Malformed timerange', {
          source: { pointer: '/parameters/timerange' },
          code: 'invalid_timerange',
        });
      }
    }
    const allowed = dashboard.filtersConfiguration?.aggregationOptions;
    if (parameters.aggregation && allowed?.length && !allowed.includes(parameters.aggregation)) {
      throw new ValidationError(`aggregation "${parameters.aggregation}" is not offered by this dashboard (${allowed.join(', ')})`, {
        source: { pointer: '/parameters/aggregation' },
      });
    }
  }

  private async states(organizationId: string, keys: string[]): Promise<{ results: Map<string, StoredResult>; executions: Map<string, Execution> }> {
    const [results, executions] = await Promise.all([
      this.deps.resultStore.findLatestMany(organizationId, keys),
      new ExecutionRepository(this.deps.db).latestByDataKeys(organizationId, keys),
    ]);
    return { results, executions };
  }

  private start(principal: Principal, target: Target, force: boolean): Promise<Execution> {
    const c = target.compiled!;
    return this.deps.executions.start({
      organizationId: principal.organizationId,
      datasource: c.datasource,
      executionType: target.kind === 'reports' ? 'sql_query' : 'sql_filter',
      priority: 'interactive',
      dataKey: c.dataKey,
      sqlText: c.sql,
      sqlValues: c.values,
      rQuery: c.rQuery,
      timeZone: c.timeZone,
      options: target.kind === 'reports' ? { reportId: target.id } : { filterId: target.id },
      force,
    });
  }

  /**
   * Poll Dashboard Status (row 23). Runs no query unless `refreshData` is true and some data is out
   * of date (or missing) under the effective refresh rate and anchor time.
   */
  async pollStatus(principal: Principal, dashboardId: string, input: { refreshData: boolean; parameters?: InputParameters }): Promise<DashboardStatus> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    const org = principal.organizationId;
    const keysOf = (targets: Target[]) => [...new Set(targets.flatMap((t) => (t.compiled ? [t.compiled.dataKey] : [])))];
    // A current dashboard in one round trip: the content version and the state of the keys of the
    // cached compilation are read together; when the version moved, the dashboard is compiled
    // again (the version read first tags the new entry) and the state of its keys read anew.
    const cached = this.compiledCache.get(this.cacheKey(org, dashboardId, input.parameters));
    let state = await this.pollState(org, cached ? keysOf(this.visibleTo(principal, cached.value).targets) : []);
    let compiled = this.cachedCompilation(org, dashboardId, input.parameters, state.version);
    if (!compiled) {
      compiled = this.visibleTo(principal, await this.compileAndCache(org, dashboardId, input.parameters, state.version));
      state = await this.pollState(org, keysOf(compiled.targets));
    } else {
      compiled = this.visibleTo(principal, compiled);
    }
    const { targets, dashboard } = compiled;
    const keys = keysOf(targets);
    let { results, executions } = state;
    const now = this.deps.clock.now();
    if (input.refreshData) {
      let started = false;
      for (const target of targets) {
        if (!target.compiled) continue;
        const key = target.compiled.dataKey;
        const latest = executions.get(key);
        if (latest && !isFinished(latest.executionStatus)) continue;
        const result = results.get(key);
        if (result && isCurrent(result.dataTimestamp, target.rule, now)) continue;
        const failedRecently =
          latest && latest.executionStatus !== 'success' && latest.completedAt && now.getTime() - latest.completedAt.getTime() < FAILED_RETRY_SECONDS * 1000;
        if (failedRecently && (!result || latest.createdAt > result.completedAt)) continue;
        await this.start(principal, target, false);
        started = true;
      }
      if (started) ({ results, executions } = await this.pollState(org, keys));
    }
    const status: DashboardStatus = {
      reports: {},
      filters: {},
      data_keys: {},
      updated_at: dashboard.updatedAt.toISOString(),
      status_check_delay: DELAY_IDLE_SECONDS,
    };
    for (const target of targets) {
      const map = target.kind === 'reports' ? status.reports : status.filters;
      const updatedAt = target.updatedAt.toISOString();
      if (target.manual) {
        status.filters[target.id] = { updated_at: updatedAt };
        continue;
      }
      if (!target.compiled) {
        map[target.id] = { error: target.error ?? 'Unknown error', updated_at: updatedAt };
        continue;
      }
      const key = target.compiled.dataKey;
      map[target.id] = { data_key: key, updated_at: updatedAt };
      if (status.data_keys[key]) continue;
      const entry = this.keyStatus(principal, key, results.get(key), executions.get(key), target.rule, now);
      if (entry.running) status.status_check_delay = DELAY_RUNNING_SECONDS;
      status.data_keys[key] = entry;
    }
    return status;
  }

  /**
   * The content version with the state of `keys`: in one statement from PostgreSQL when results are
   * stored there (the default store), else the version, then the store and the executions.
   */
  private async pollState(organizationId: string, keys: string[]): Promise<PollState> {
    const repo = new ContentVersionRepository(this.deps.db);
    if (this.deps.resultStore instanceof PgResultStore) return repo.pollState(organizationId, keys);
    const version = await repo.find(organizationId);
    return { version, ...(await this.states(organizationId, keys)) };
  }

  private keyStatus(
    principal: Principal,
    key: string,
    result: ResultState | undefined,
    latest: ExecutionState | undefined,
    rule: FreshnessRule,
    now: Date,
  ): DataKeyStatus {
    const running = latest !== undefined && !isFinished(latest.executionStatus);
    const entry: DataKeyStatus = {
      result_status: result ? 'success' : latest ? latest.executionStatus : 'no-data',
      execution_id: latest?.id ?? result?.executionId ?? null,
      execution_status: latest?.executionStatus ?? (result ? 'success' : null),
      running,
    };
    if (result) {
      entry.data_timestamp = Math.floor(result.dataTimestamp.getTime() / 1000);
      entry.data_current = isCurrent(result.dataTimestamp, rule, now);
      entry.data_access_token = this.deps.tokens.sign({ organizationId: principal.organizationId, dataKey: key, kind: 'result', format: 'json' });
    }
    return entry;
  }

  /**
   * Refresh Dashboard (row 24): fresh executions for every report and SQL filter whatever the age
   * of their data, cancelling running ones for the same parameters first. Does not wait.
   */
  async refreshDashboard(principal: Principal, dashboardId: string, parameters?: InputParameters): Promise<void> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    const { targets } = await this.prepare(principal, dashboardId, parameters);
    const seen = new Set<string>();
    for (const target of targets) {
      if (!target.compiled || seen.has(target.compiled.dataKey)) continue;
      seen.add(target.compiled.dataKey);
      await this.start(principal, target, true);
    }
  }

  /** Refresh Report (row 50): one fresh execution. @throws ValidationError when the SQL does not compile */
  async refreshReport(principal: Principal, reportId: string, parameters?: InputParameters): Promise<Execution> {
    const target = await this.reportTarget(principal, reportId, parameters);
    return this.start(principal, target, true);
  }

  private async reportTarget(principal: Principal, reportId: string, parameters?: InputParameters): Promise<Target> {
    const report = await this.deps.reports.get(principal, reportId);
    const { targets } = await this.prepare(principal, report.dashboardId, parameters, { reportId });
    const target = targets[0];
    if (!target) throw new NotFoundError(`Report ${reportId} not found`, { code: 'report_not_found' });
    if (!target.compiled) throw new ValidationError(`The report's query cannot run: ${target.error}`, { code: 'report_query_invalid' });
    return target;
  }

  /**
   * Get Report Data (row 52): key and token of cached data for these parameters; undefined (→ 204)
   * when there is none. Never starts a query.
   */
  async reportData(principal: Principal, reportId: string, request: ReportDataRequest): Promise<{ data_key: string; data_access_token: string } | undefined> {
    const target = await this.reportTarget(principal, reportId, request.parameters);
    const key = target.compiled!.dataKey;
    const result = await this.deps.resultStore.findLatest(principal.organizationId, key);
    if (!result) return undefined;
    if (request.dataFormat === 'csv') {
      const org = await this.deps.organizations.get(principal.organizationId);
      const csv: CsvOptions = {
        columnSeparator: request.csv?.columnSeparator ?? (org.csvColumnSeparator as CsvOptions['columnSeparator']),
        decimalSeparator: request.csv?.decimalSeparator ?? (org.csvDecimalSeparator as CsvOptions['decimalSeparator']),
        quoteStyle: request.csv?.quoteStyle ?? org.csvQuoteStyle,
      };
      return {
        data_key: key,
        data_access_token: this.deps.tokens.sign({ organizationId: principal.organizationId, dataKey: key, kind: 'result', format: 'csv', csv }),
      };
    }
    return {
      data_key: key,
      data_access_token: this.deps.tokens.sign({ organizationId: principal.organizationId, dataKey: key, kind: 'result', format: 'json' }),
    };
  }

  private async filterTarget(principal: Principal, filter: Filter, dashboardId: string | undefined, parameters?: InputParameters): Promise<Target> {
    const dynamic = !STATIC_DROPDOWNS.has(filter.controlType);
    let dashboard: Dashboard | string;
    if (dashboardId) dashboard = dashboardId;
    else if (dynamic)
      throw new ValidationError('A dynamic drop-down filter needs "dashboard_id" (and the dashboard\'s parameters)', { source: { pointer: '/dashboard_id' } });
    else
      dashboard = {
        id: '',
        name: '',
        defaultParameters: null,
        timeZoneConfig: { type: 'disabled' },
        dataRefreshRate: filter.dataRefreshRate ?? 1440,
        dataRefreshAnchorTime: null,
      } as unknown as Dashboard;
    const { targets } = await this.prepare(principal, dashboard, parameters, { filterId: filter.id });
    const target = targets[0];
    if (!target) throw new NotFoundError(`Filter ${filter.id} not found`, { code: 'filter_not_found' });
    if (!target.compiled) throw new ValidationError(`The filter's query cannot run: ${target.error}`, { code: 'filter_query_invalid' });
    return target;
  }

  private async visibleFilter(principal: Principal, filterId: string): Promise<Filter> {
    return this.deps.filters.get(principal, filterId);
  }

  /**
   * Get Drop-Down Filter Options (row 61): manual values, or the options of the newest stored run
   * of the filter's SQL. Never starts a query.
   */
  async filterOptions(principal: Principal, filterId: string, input: { dashboardId?: string; parameters?: InputParameters }): Promise<FilterOptions> {
    const filter = await this.visibleFilter(principal, filterId);
    if (filter.controlType === 'dropdown_manual' || filter.controlType === 'dropdown_multi_manual') {
      const values = filter.values ?? [];
      return { options: { values, value_names: values.map((v, i) => filter.valueNames?.[i] ?? v) } };
    }
    if (!SQL_DROPDOWNS.has(filter.controlType)) throw new ValidationError(`Filter ${filterId} is not a drop-down filter`, { code: 'not_a_dropdown' });
    const target = await this.filterTarget(principal, filter, input.dashboardId, input.parameters);
    const result = await this.deps.resultStore.findLatest(principal.organizationId, target.compiled!.dataKey);
    if (!result) return { data_timestamp: null, options: { values: [], value_names: [], ...(filter.parentFilterId ? { parent_values: [] } : {}) } };
    const rows = await this.readRows(result, MAX_OPTIONS);
    const str = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
    const values = rows.map((r) => str(r[0]));
    const options: FilterOptions['options'] = { values, value_names: rows.map((r, i) => (r.length > 1 && r[1] !== null ? str(r[1]) : values[i]!)) };
    if (filter.parentFilterId) options.parent_values = rows.map((r) => str(r[2]));
    return { data_timestamp: Math.floor(result.dataTimestamp.getTime() / 1000), options };
  }

  /** Refresh Drop-Down Filter Options (row 62): runs the filter's SQL; undefined (→ 204) for manual ones. */
  async refreshFilterOptions(
    principal: Principal,
    filterId: string,
    input: { dashboardId?: string; parameters?: InputParameters },
  ): Promise<Execution | undefined> {
    const filter = await this.visibleFilter(principal, filterId);
    if (filter.controlType === 'dropdown_manual' || filter.controlType === 'dropdown_multi_manual') return undefined;
    if (!SQL_DROPDOWNS.has(filter.controlType)) throw new ValidationError(`Filter ${filterId} is not a drop-down filter`, { code: 'not_a_dropdown' });
    const target = await this.filterTarget(principal, filter, input.dashboardId, input.parameters);
    return this.start(principal, target, true);
  }

  /**
   * For exports: each report of a dashboard (or just `reportId`) the key may see, with its data key
   * under the request's parameters, its newest stored result and whether that is current. Starts
   * nothing; `startExport` refreshes what is missing or stale.
   * @throws ValidationError for request-level parameter errors (timerange, tz, aggregation)
   */
  async exportTargets(principal: Principal, dashboardId: string, request: InputParameters | undefined, only?: { reportId?: string }): Promise<ExportTargets> {
    const { targets, organization, dashboard, reports } = await this.prepare(
      principal,
      dashboardId,
      request,
      only?.reportId ? { reportId: only.reportId } : undefined,
    );
    const byId = new Map(reports.map((r) => [r.id, r]));
    const keys = [...new Set(targets.flatMap((t) => (t.compiled ? [t.compiled.dataKey] : [])))];
    const results = await this.deps.resultStore.findLatestMany(principal.organizationId, keys);
    const now = this.deps.clock.now();
    const parameters = mergeParameters(dashboard.defaultParameters, request);
    return {
      dashboard,
      organization,
      parameters,
      timeZone: resolveDashboardTimeZone(dashboard, organization, parameters.tz) ?? organization.timeZone,
      targets: targets.flatMap((t) => {
        const report = t.kind === 'reports' ? byId.get(t.id) : undefined;
        if (!report) return [];
        const result = t.compiled ? results.get(t.compiled.dataKey) : undefined;
        return [
          {
            report,
            rule: t.rule,
            dataKey: t.compiled?.dataKey,
            error: t.error,
            result,
            current: result !== undefined && isCurrent(result.dataTimestamp, t.rule, now),
            query: t.compiled
              ? { datasource: t.compiled.datasource, sql: t.compiled.sql, values: t.compiled.values, timeZone: t.compiled.timeZone, rQuery: t.compiled.rQuery }
              : undefined,
          },
        ];
      }),
    };
  }

  /**
   * Starts (or joins, single flight) the execution of an export target's query through the
   * execution engine. `force` cancels a running one first (as Refresh Report does).
   */
  startExport(principal: Principal, target: ExportTarget, options: { priority?: 'interactive' | 'background'; force?: boolean } = {}): Promise<Execution> {
    const q = target.query;
    if (!q || !target.dataKey)
      throw new ValidationError(`The report's query cannot run: ${target.error ?? 'it does not compile'}`, { code: 'report_query_invalid' });
    return this.deps.executions.start({
      organizationId: principal.organizationId,
      datasource: q.datasource,
      executionType: 'sql_query',
      priority: options.priority ?? 'interactive',
      dataKey: target.dataKey,
      sqlText: q.sql,
      sqlValues: q.values,
      rQuery: q.rQuery,
      timeZone: q.timeZone,
      options: { reportId: target.report.id },
      force: options.force ?? false,
    });
  }

  /** Reads up to `limit` rows of a stored result (drop-down options are small). */
  private async readRows(result: StoredResult, limit: number): Promise<unknown[][]> {
    const rows: unknown[][] = [];
    for await (const chunk of this.deps.resultStore.readChunks(result.executionId, 0, Math.max(0, result.chunkCount - 1))) {
      const text = (await gunzip(chunk.bytes)).toString('utf8');
      for (const row of JSON.parse(`[${text}]`) as unknown[][]) {
        rows.push(row);
        if (rows.length >= limit) return rows;
      }
    }
    return rows;
  }
}
