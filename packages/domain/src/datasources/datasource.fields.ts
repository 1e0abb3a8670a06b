import { z } from 'zod';
import { DATABASE_TYPES, type DatabaseType } from '../drivers/driver.types.js';
import { defineFields, f, nulFreeText } from '../fields/index.js';
import { isValidTimeZone } from '../query/time-zones.js';
import { CONNECTION_MODES, type ConnectionMode } from './datasource.types.js';

/** Types whose SSL settings the contract forces to true (coerced rather than rejected, contract §4.1.5). */
const ALWAYS_SSL: ReadonlySet<DatabaseType> = new Set(['athena', 'bigquery', 'databricks', 'redshift', 'snowflake']);
const ALWAYS_VERIFY: ReadonlySet<DatabaseType> = new Set(['athena', 'bigquery', 'databricks', 'snowflake']);
/** Types that verify the certificate whenever SSL is on. */
const VERIFY_WITH_SSL: ReadonlySet<DatabaseType> = new Set(['oracle', 'presto']);

/** What the SSL rules read. */
interface SslSettings {
  databaseType?: DatabaseType;
  connectionMode?: ConnectionMode;
  requireSsl?: boolean;
}

const isJsonObjectText = (v: string): boolean => {
  try {
    return typeof JSON.parse(v) === 'object';
  } catch {
    return false;
  }
};

/**
 * The `datasources` resource (contract §3.1), one line per attribute: the domain type `Datasource`,
 * the row mapping (credentials sealed at rest), the API attributes (credentials only for keys with
 * Manage Datasources on the datasource) and the request schemas derive from it.
 */
export const datasourceFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  name: f.text(nulFreeText(200).trim().min(1)).required(),
  databaseType: f.enum(DATABASE_TYPES).required(),
  connectionMode: f.enum(CONNECTION_MODES).required(),
  host: f.text({ max: 255 }).nullable(),
  port: f.integer(1, 65535).nullable(),
  username: f.text({ max: 255 }).nullable(),
  password: f.text({ max: 4096 }).nullable().column('password_enc').sealed().visibleTo('Manage Datasources'),
  database: f.text({ max: 255 }).nullable(),
  sshTunnelHost: f.text({ max: 255 }).nullable(),
  sshTunnelPort: f.integer(1, 65535).nullable(),
  sshTunnelUser: f.text({ max: 255 }).nullable(),
  dataTimeZone: f.value(z.string().refine(isValidTimeZone, 'must be an IANA time zone name such as "Europe/Berlin"')).default('UTC'),
  /** On by default for direct connections; always on for types that only connect over TLS. */
  requireSsl: f
    .boolean()
    .default((d: SslSettings) => d.connectionMode === 'direct')
    .coerce((d: SslSettings) => (d.databaseType && ALWAYS_SSL.has(d.databaseType) ? true : undefined)),
  /** Always on for some types, and for Oracle/Presto whenever SSL is on. */
  verifySsl: f
    .boolean()
    .default(false)
    .coerce((d: SslSettings) =>
      d.databaseType && (ALWAYS_VERIFY.has(d.databaseType) || (VERIFY_WITH_SSL.has(d.databaseType) && d.requireSsl)) ? true : undefined,
    ),
  enabled: f.boolean().default(true),
  maxConcurrentExecutions: f.integer(1, 1000).default(20),
  /** Statement timeout of this datasource's queries; null = the deployment default. */
  queryTimeoutSeconds: f.integer(1, 86_400).nullable(),
  updateSchemaNightly: f.boolean().default(true),
  updateSchemaRowCounts: f.boolean().default(true),
  athenaRegion: f.text({ max: 100 }).nullable(),
  athenaWorkgroup: f.text({ max: 255 }).nullable(),
  databricksHttpPath: f.text({ max: 1000 }).nullable(),
  snowflakeIdentifier: f.text({ max: 255 }).nullable(),
  snowflakeRegion: f.text({ max: 100 }).nullable(),
  snowflakeWarehouse: f.text({ max: 255 }).nullable(),
  bigqueryServiceKey: f
    .text(nulFreeText(20_000).refine(isJsonObjectText, 'must be the service key as a JSON string'))
    .nullable()
    .column('bigquery_service_key_enc')
    .sealed()
    .visibleTo('Manage Datasources'),
  createdAt: f.createdAt(),
  updatedAt: f.updatedAt(),
  schemaUpdatedAt: f.timestamp().nullable().readOnly(),
  totalRowCount: f.value(z.number().int()).nullable().readOnly(),
  totalRowCountExact: f.boolean().nullable().readOnly(),
  defaultSchemaName: f.text({ max: 1000 }).nullable().readOnly(),
  serverVersion: f.text({ max: 1000 }).nullable().readOnly(),
  /** The organization's "Sample Data" datasource: its connection cannot be changed. */
  isSample: f.boolean().internal().dbDefault(),
  /** The agents that carry the traffic of a datasource in connection mode `agent` (`datasource_agent_links`). */
  agentIds: f.refs('datasource_agents'),
});
