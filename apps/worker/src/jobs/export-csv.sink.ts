import {
  csvOptionsOf,
  csvPiecesOf,
  type Execution,
  type ExportQuerySink,
  type OrganizationService,
  type PgExportFileStore,
  type RunningQuery,
} from '@sightline/domain';
import { CsvRowEncoder, type CsvFormat } from '@sightline/render/csv';

/**
 * The unlimited CSV export's sink: rows of an `export_query` execution are encoded with the
 * organization's CSV settings and streamed into the export job's file, batch by batch (nothing
 * holds the rows; the file store's back-pressure paces the database cursor). A driver that can
 * have the database write the lines in the same format (PostgreSQL) hands them over as bytes.
 */
export class CsvExportSink implements ExportQuerySink {
  constructor(private readonly deps: { files: PgExportFileStore; organizations: OrganizationService }) {}

  private jobId(execution: Execution): string {
    const id = execution.options.exportJobId;
    if (!id) throw new Error(`export_query execution ${execution.id} names no export job`);
    return id;
  }

  async queryOptions(execution: Execution): Promise<{ csv: CsvFormat }> {
    return { csv: await this.formatOf(execution) };
  }

  private async formatOf(execution: Execution): Promise<CsvFormat> {
    return csvOptionsOf(await this.deps.organizations.get(execution.organizationId));
  }

  async write(execution: Execution, query: RunningQuery): Promise<{ rows: number; bytes: number }> {
    const format = await this.formatOf(execution);
    const columns = await query.columns();
    const encoder = new CsvRowEncoder(
      columns.map((c) => ({ name: c.name, data_type: c.dataType })),
      format,
    );
    const writer = await this.deps.files.createWriter(this.jobId(execution), { gzip: true });
    let rows = 0;
    try {
      await writer.write(encoder.header());
      for await (const batch of query.rows()) {
        const pieces = csvPiecesOf(batch);
        if (pieces) {
          // the database's lines as they are (one write per batch); a row it sent as values is encoded here
          const parts = pieces.map((piece) => (Buffer.isBuffer(piece) ? piece : Buffer.from(encoder.row(piece), 'utf8')));
          await writer.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
        } else {
          await writer.write(encoder.rows(batch));
        }
        rows += batch.length;
      }
      const { size } = await writer.end();
      return { rows, bytes: size };
    } catch (err) {
      await writer.abort().catch(() => {});
      throw err;
    }
  }

  async discard(execution: Execution): Promise<void> {
    await this.deps.files.delete(this.jobId(execution));
  }
}
