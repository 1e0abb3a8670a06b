import { randomSecret, type Config, type Logger, type SampleDataConnection } from '@sightline/domain';
import { provisionSampleDatabase } from '@sightline/runtime';
import type { DatabaseHandle } from './database.js';

const SAMPLE_DATABASE = 'sightline_sample';
const SAMPLE_READER = 'sightline_sample_reader';

/**
 * Creates (first time) or re-checks the "Sample Data" database next to Sightline's own, read through
 * a role that can read nothing else. Skipped with a log line when disabled or without the rights.
 * The reader's password is new on every call; callers then update the organizations' datasources.
 */
export async function prepareSampleData(handle: DatabaseHandle, config: Config, logger: Logger): Promise<SampleDataConnection | undefined> {
  if (!config.sampleData) return undefined;
  const adminUrl = handle.adminUrlFor?.('postgres') ?? handle.config.databaseUrl;
  const result = await provisionSampleDatabase(adminUrl, {
    database: SAMPLE_DATABASE,
    readerRole: SAMPLE_READER,
    readerPassword: randomSecret(24),
    log: (msg) => logger.info(msg),
  });
  if (result.skipped) {
    logger.warn(
      { reason: result.reason },
      'no "Sample Data" datasource: the database user cannot create its database and role (set SAMPLE_DATA=false to silence this)',
    );
    return undefined;
  }
  if (result.created) logger.info({ ms: result.durationMs }, 'sample data generated');
  return result.connection;
}
