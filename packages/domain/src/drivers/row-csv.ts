/** Key of the CSV pieces a driver may attach to a batch of rows (see `csvPiecesOf`). */
const CSV_PIECES = Symbol('sightline.csvPieces');

/**
 * The rows of a batch as CSV: a Buffer holds the exact UTF-8 CSV lines (CRLF-terminated) of
 * consecutive rows, as `CsvRowEncoder` would write them in the requested format; an array holds
 * one row's values for the caller to encode itself.
 */
export type CsvPiece = Buffer | unknown[];

type BatchWithCsv = unknown[][] & { [CSV_PIECES]?: readonly CsvPiece[] };

const NO_VALUES: unknown[] = Object.freeze([]) as unknown as unknown[];

/**
 * A batch of `rowCount` rows given as CSV pieces: its rows are empty arrays (the values were not
 * decoded); only a consumer that asked for CSV (`QueryOptions.csv`) receives such batches.
 */
export function csvBatch(pieces: readonly CsvPiece[], rowCount: number): unknown[][] {
  const rows = new Array<unknown[]>(rowCount).fill(NO_VALUES) as BatchWithCsv;
  rows[CSV_PIECES] = pieces;
  return rows;
}

/** The CSV pieces of a batch, when its driver encoded it (see `csvBatch`). */
export function csvPiecesOf(rows: unknown[][]): readonly CsvPiece[] | undefined {
  return (rows as BatchWithCsv)[CSV_PIECES];
}
