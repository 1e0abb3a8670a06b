/** Key of the JSON text a driver may attach to a batch of rows (see `rowJsonOf`). */
const ROW_JSON = Symbol('sightline.rowJson');

type BatchWithJson = unknown[][] & { [ROW_JSON]?: readonly string[] };

/**
 * Attaches to `rows` the JSON array text of each row, exactly `JSON.stringify(rows[i])`, so a
 * consumer that stores JSON (the result writer) can keep it instead of encoding the values again.
 * Only a driver that produced the text with this guarantee attaches it.
 */
export function withRowJson(rows: unknown[][], texts: readonly string[]): unknown[][] {
  (rows as BatchWithJson)[ROW_JSON] = texts;
  return rows;
}

/** The JSON text of each row of a batch, when its driver attached it (a slice of a batch has none). */
export function rowJsonOf(rows: unknown[][]): readonly string[] | undefined {
  return (rows as BatchWithJson)[ROW_JSON];
}
