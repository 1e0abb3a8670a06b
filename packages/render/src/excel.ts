// Excel workbooks (exceljs streaming writer): one sheet per report, typed cells, rows streamed in.

import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { isNumericType, toWallClockMs } from './format.js';
import type { RenderField, RenderRow } from './types.js';

/** Rows Excel holds per sheet (1,048,576 minus the header). */
export const EXCEL_MAX_ROWS = 1_048_575;

/** One sheet: a report's columns and rows. */
export interface ExcelSheet {
  /** Sheet name (cut to Excel's 31 characters, made unique, forbidden characters replaced). */
  name: string;
  fields: readonly RenderField[];
  /** Rows in order; an async iterable keeps memory flat for large results. */
  rows: Iterable<RenderRow> | AsyncIterable<RenderRow>;
  /** Zone zoned date-times are shown in (Excel has no zones): the result's time zone. */
  timeZone: string;
}

const DATE_FORMAT = 'yyyy-mm-dd';
const DATE_TIME_FORMAT = 'yyyy-mm-dd hh:mm:ss';

/**
 * The typed cell value of `value`: numbers (also exact decimal texts) as numbers, `Date` and
 * `DateTime` as Excel dates (wall-clock time in `timeZone`), booleans as booleans, NULL as an
 * empty cell, JSON values as their text.
 */
export function excelCellValue(value: unknown, dataType: string, timeZone: string): ExcelJS.CellValue {
  if (value === null || value === undefined) return null;
  if (isNumericType(dataType)) {
    const num = typeof value === 'number' ? value : Number(value);
    return Number.isFinite(num) ? num : String(value);
  }
  if (dataType === 'Date' || dataType === 'DateTime') {
    const ms = toWallClockMs(value, timeZone);
    return Number.isFinite(ms) ? new Date(ms) : String(value);
  }
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  return JSON.stringify(value);
}

function sheetNames(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((raw, i) => {
    const base = (
      raw
        .replace(/[[\]:*?/\\]/g, ' ')
        .replace(/^'+|'+$/g, '')
        .trim() || `Sheet ${i + 1}`
    ).slice(0, 31);
    let name = base;
    for (let k = 2; used.has(name.toLowerCase()); k++) name = `${base.slice(0, 31 - String(k).length - 1)} ${k}`;
    used.add(name.toLowerCase());
    return name;
  });
}

/**
 * Writes an .xlsx workbook to `out` with one sheet per entry: a bold header row of the columns'
 * names, then the rows as typed cells. Streams: rows are written (and freed) as they come.
 * Rows beyond Excel's limit are dropped and counted in a last line.
 */
export async function writeExcel(sheets: readonly ExcelSheet[], out: Writable): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  workbook.creator = 'Sightline';
  const names = sheetNames(sheets.map((s) => s.name));
  for (const [s, sheet] of sheets.entries()) {
    const ws = workbook.addWorksheet(names[s]);
    ws.columns = sheet.fields.map((f) => ({
      header: f.name,
      key: `c${f.name}`,
      width: Math.min(60, Math.max(10, f.name.length + 2, f.data_type === 'DateTime' ? 20 : 0)),
      style: f.data_type === 'Date' ? { numFmt: DATE_FORMAT } : f.data_type === 'DateTime' ? { numFmt: DATE_TIME_FORMAT } : {},
    }));
    ws.getRow(1).font = { bold: true };
    ws.getRow(1).commit();
    let count = 0;
    let dropped = 0;
    for await (const row of sheet.rows) {
      if (count >= EXCEL_MAX_ROWS - 1) {
        dropped++;
        continue;
      }
      ws.addRow(sheet.fields.map((f, i) => excelCellValue(row[i], f.data_type, sheet.timeZone))).commit();
      count++;
    }
    if (dropped) ws.addRow([`… ${dropped} more rows do not fit in an Excel sheet`]).commit();
    ws.commit();
  }
  await workbook.commit();
}
