// Decoders tests use to prove that files open in ordinary viewers: PNG (pngjs), PDF text
// (pdf.js, Firefox's PDF engine), xlsx (exceljs reading).

import { PNG } from 'pngjs';
import ExcelJS from 'exceljs';

/** A decoded PNG (RGBA, 4 bytes per pixel). */
export function decodePng(bytes: Buffer): PNG {
  return PNG.sync.read(bytes);
}

/** RGBA of one pixel. */
export function pixel(png: PNG, x: number, y: number): [number, number, number, number] {
  const i = (png.width * Math.floor(y) + Math.floor(x)) * 4;
  return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!, png.data[i + 3]!];
}

/** `#rrggbb` → [r, g, b]. */
export function hexColor(hex: string): [number, number, number] {
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}

/** Share of the pixels in a rectangle that differ from `background` (0–1). */
export function inkRatio(png: PNG, rect: { x: number; y: number; width: number; height: number }, background: [number, number, number]): number {
  let ink = 0;
  let all = 0;
  for (let y = Math.ceil(rect.y); y < Math.floor(rect.y + rect.height); y++) {
    for (let x = Math.ceil(rect.x); x < Math.floor(rect.x + rect.width); x++) {
      const [r, g, b] = pixel(png, x, y);
      all++;
      if (Math.abs(r - background[0]) + Math.abs(g - background[1]) + Math.abs(b - background[2]) > 24) ink++;
    }
  }
  return all ? ink / all : 0;
}

/** The text of each page of a PDF, as pdf.js extracts it (items joined by spaces). */
export async function pdfText(bytes: Buffer): Promise<{ pages: string[]; pageSizes: Array<[number, number]> }> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({ data: new Uint8Array(bytes), useSystemFonts: false, isEvalSupported: false }).promise;
  const pages: string[] = [];
  const pageSizes: Array<[number, number]> = [];
  for (let p = 1; p <= doc.numPages; p++) {
    const page = await doc.getPage(p);
    const content = await page.getTextContent();
    pages.push(
      content.items
        .map((it) => ('str' in it ? it.str : ''))
        .join(' ')
        .replace(/\s+/g, ' '),
    );
    const [x0, y0, x1, y1] = page.view as [number, number, number, number];
    pageSizes.push([x1 - x0, y1 - y0]);
  }
  await doc.destroy();
  return { pages, pageSizes };
}

/** Every sheet of an xlsx as rows of cell values (exceljs's reading of the file). */
export async function readXlsx(bytes: Buffer): Promise<Array<{ name: string; rows: unknown[][] }>> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  return wb.worksheets.map((ws) => {
    const rows: unknown[][] = [];
    const width = ws.columnCount;
    ws.eachRow({ includeEmpty: true }, (row) => {
      const values = row.values as unknown[];
      rows.push(Array.from({ length: width }, (_, i) => values[i + 1] ?? null));
    });
    return { name: ws.name, rows };
  });
}
