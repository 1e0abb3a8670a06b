// The drawing backends of a Scene: SVG (and PNG through resvg) and PDF (pdfkit + svg-to-pdfkit).

import { Resvg } from '@resvg/resvg-js';
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import { FONT_FILES, loadFonts } from './fonts.js';
import type { Scene, SceneItem, ScenePage } from './scene.js';
import { FONT_FAMILY } from './theme.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
const n = (v: number) => String(Math.round(v * 100) / 100);

/** A chart SVG placed at (x, y): its root element gets a position and an explicit size. */
function placeSvg(svg: string, x: number, y: number, width: number, height: number): string {
  const body = svg.replace(/^<\?xml[^>]*>\s*/, '');
  return body.replace(/^<svg\b([^>]*)>/, (_m, attrs: string) => {
    const kept = attrs.replace(/\s(?:x|y|width|height)="[^"]*"/g, '');
    return `<svg x="${n(x)}" y="${n(y)}" width="${n(width)}" height="${n(height)}"${kept}>`;
  });
}

function itemToSvg(item: SceneItem): string {
  switch (item.type) {
    case 'rect':
      return `<rect x="${n(item.x)}" y="${n(item.y)}" width="${n(item.width)}" height="${n(item.height)}"${item.radius ? ` rx="${item.radius}"` : ''} fill="${item.fill}"${item.stroke ? ` stroke="${item.stroke}"` : ''}/>`;
    case 'line':
      return `<line x1="${n(item.x1)}" y1="${n(item.y1)}" x2="${n(item.x2)}" y2="${n(item.y2)}" stroke="${item.stroke}" stroke-width="1"/>`;
    case 'text':
      return `<text x="${n(item.x)}" y="${n(item.y)}" font-size="${item.size}"${item.bold ? ' font-weight="700"' : ''} fill="${item.color}"${item.anchor && item.anchor !== 'start' ? ` text-anchor="${item.anchor}"` : ''}>${esc(item.text)}</text>`;
    case 'svg':
      return placeSvg(item.svg, item.x, item.y, item.width, item.height);
  }
}

/** One scene page as a standalone SVG document. */
export function pageToSvg(page: ScenePage): string {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${page.width}" height="${page.height}" viewBox="0 0 ${page.width} ${page.height}" font-family="${FONT_FAMILY}">`,
    `<rect width="${page.width}" height="${page.height}" fill="${page.background}"/>`,
    ...page.items.map(itemToSvg),
    '</svg>',
  ];
  return parts.join('');
}

/** Rasterizes an SVG with the bundled font only (no system fonts: identical output everywhere). */
export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: [FONT_FILES.regular, FONT_FILES.bold], defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
    shapeRendering: 2,
    textRendering: 1,
    fitTo: { mode: 'original' },
    logLevel: 'off',
  });
  return resvg.render().asPng();
}

/** A PDF point is 1/72 in, a CSS px 1/96 in. */
const PT_PER_PX = 0.75;

/**
 * Draws a scene as a PDF: one PDF page per scene page, sized to it (px → pt), texts as real text
 * in the embedded bundled font, charts as vector graphics.
 */
export async function sceneToPdf(scene: Scene, info: { title: string }): Promise<Buffer> {
  const fonts = loadFonts();
  const first = scene.pages[0]!;
  const doc = new PDFDocument({
    size: [first.width * PT_PER_PX, first.height * PT_PER_PX],
    margin: 0,
    autoFirstPage: false,
    info: { Title: info.title, Creator: 'Sightline', Producer: 'Sightline' },
  });
  doc.registerFont(FONT_FAMILY, fonts.regular);
  doc.registerFont(`${FONT_FAMILY}-Bold`, fonts.bold);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });
  for (const page of scene.pages) {
    doc.addPage({ size: [page.width * PT_PER_PX, page.height * PT_PER_PX], margin: 0 });
    doc.save();
    doc.scale(PT_PER_PX);
    doc.rect(0, 0, page.width, page.height).fill(page.background);
    for (const item of page.items) drawPdfItem(doc, item);
    doc.restore();
  }
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

function drawPdfItem(doc: PDFKit.PDFDocument, item: SceneItem): void {
  switch (item.type) {
    case 'rect': {
      if (item.radius) doc.roundedRect(item.x, item.y, item.width, item.height, item.radius);
      else doc.rect(item.x, item.y, item.width, item.height);
      if (item.stroke) doc.lineWidth(1).fillAndStroke(item.fill, item.stroke);
      else doc.fill(item.fill);
      return;
    }
    case 'line':
      doc.moveTo(item.x1, item.y1).lineTo(item.x2, item.y2).lineWidth(1).stroke(item.stroke);
      return;
    case 'text': {
      doc
        .font(item.bold ? `${FONT_FAMILY}-Bold` : FONT_FAMILY)
        .fontSize(item.size)
        .fillColor(item.color);
      const w = doc.widthOfString(item.text);
      const x = item.anchor === 'end' ? item.x - w : item.anchor === 'middle' ? item.x - w / 2 : item.x;
      doc.text(item.text, x, item.y, { lineBreak: false, baseline: 'alphabetic' });
      return;
    }
    case 'svg':
      SVGtoPDF(doc as never, item.svg, item.x, item.y, {
        width: item.width,
        height: item.height,
        assumePt: true,
        fontCallback: (_family, bold) => (bold ? `${FONT_FAMILY}-Bold` : FONT_FAMILY),
        warningCallback: () => {},
      });
      return;
  }
}
