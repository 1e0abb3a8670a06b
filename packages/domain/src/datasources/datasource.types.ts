import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, UpdateInputOf } from '../fields/index.js';
import type { datasourceFields } from './datasource.fields.js';

/** How the worker reaches the database: directly, through an SSH tunnel, or through a datasource agent. */
export type ConnectionMode = 'direct' | 'ssh_tunnel' | 'agent';
/** Every `ConnectionMode`. */
export const CONNECTION_MODES: readonly ConnectionMode[] = ['direct', 'ssh_tunnel', 'agent'];

/** A datasource with its credentials opened (services only; presenters hide them from most keys). Fields: `datasourceFields`. */
export interface Datasource extends RecordOf<typeof datasourceFields> {
  // restated so that messages and hovers name the type `Datasource` (an empty extension would print its base)
  id: string;
}

/** Create Datasource input: `name`, `databaseType` and `connectionMode` required. */
export type CreateDatasourceInput = CreateInputOf<typeof datasourceFields>;

/** Update Datasource input; `undefined` = unchanged. */
export type UpdateDatasourceInput = UpdateInputOf<typeof datasourceFields>;

/** Row of `datasources` (credentials sealed). */
export interface DatasourceRow extends RowOf<typeof datasourceFields> {
  id: string;
}

/** What `DatasourceRepository.insert` takes. */
export type NewDatasource = NewRecordOf<typeof datasourceFields>;

/** What `DatasourceRepository.update` takes. */
export type DatasourcePatch = PatchOf<typeof datasourceFields>;

/** Result of Test Datasource Connection. */
export interface ConnectionTestResult {
  status: 'ok' | 'error';
  error_message: string | null;
}
