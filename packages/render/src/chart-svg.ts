// Vega-Lite spec → SVG on the server (vega's headless SVG renderer, no canvas, no browser).

import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { isBold, measureText } from './fonts.js';

let metricsInstalled = false;

/**
 * Makes vega measure text with the bundled font (it would otherwise guess 0.8 em per character):
 * labels are then truncated and laid out exactly as resvg and pdfkit draw them.
 */
function installTextMetrics(): void {
  if (metricsInstalled) return;
  metricsInstalled = true;
  const metrics = (vega as unknown as { textMetrics: unknown }).textMetrics as { width: (item: Record<string, unknown>, text?: unknown) => number };
  metrics.width = (item, text) => {
    const value = text ?? item.text;
    const size = typeof item.fontSize === 'number' ? item.fontSize : 11;
    const bold = isBold(item.fontWeight);
    if (Array.isArray(value)) return Math.max(0, ...value.map((line) => measureText(String(line), size, bold)));
    return value === undefined || value === null ? 0 : measureText(String(value), size, bold);
  };
}

/** Renders a Vega-Lite spec to an SVG document (width/height as the spec says). */
export async function vegaLiteToSvg(spec: TopLevelSpec): Promise<string> {
  installTextMetrics();
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
