import { ValidationError } from '../errors.js';
import { isSupportedDatabaseType, type ConnectionSettings, type Driver } from './driver.types.js';
import { MysqlDriver } from './mysql.driver.js';
import { PostgresDriver } from './postgres.driver.js';
import type { DriverPooling } from './session-pool.js';

/**
 * The driver of a datasource: `postgres`/`redshift` → node-postgres, `mysql`/`mariadb` → mysql2.
 * Creating a driver opens no connection. With `pooling`, its query sessions come from the
 * datasource's session pool.
 * @throws ValidationError (422, code `database_type_not_supported`) for database types this build cannot connect to
 */
export function createDriver(settings: ConnectionSettings, pooling?: DriverPooling): Driver {
  if (!isSupportedDatabaseType(settings.databaseType)) {
    throw new ValidationError(`The database type '${settings.databaseType}' is not supported by this build of Sightline`, {
      code: 'database_type_not_supported',
      source: { pointer: '/data/attributes/database_type' },
    });
  }
  switch (settings.databaseType) {
    case 'postgres':
    case 'redshift':
      return new PostgresDriver(settings, pooling);
    default:
      return new MysqlDriver(settings, pooling);
  }
}
