// The bundled font (Inter from @expo-google-fonts/inter, SIL OFL 1.1). Every renderer loads these
// files explicitly and never a system font, so output is the same on every machine, including a
// fresh one without fonts.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { create as createFont, type Font } from 'fontkit';

const require = createRequire(import.meta.url);

/** Paths of the bundled font files (regular and bold). */
export const FONT_FILES = {
  regular: require.resolve('@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf'),
  bold: require.resolve('@expo-google-fonts/inter/700Bold/Inter_700Bold.ttf'),
} as const;

interface LoadedFonts {
  regular: Buffer;
  bold: Buffer;
  regularFace: Font;
  boldFace: Font;
}

let loaded: LoadedFonts | undefined;

/** The font files' bytes and parsed faces (read once per process or worker thread). */
export function loadFonts(): LoadedFonts {
  if (!loaded) {
    const regular = readFileSync(FONT_FILES.regular);
    const bold = readFileSync(FONT_FILES.bold);
    loaded = { regular, bold, regularFace: createFont(regular) as Font, boldFace: createFont(bold) as Font };
  }
  return loaded;
}

const widthCache = new Map<string, number>();

/** True for weights drawn with the bold face (`bold`, ≥ 600). */
export function isBold(weight: unknown): boolean {
  return weight === 'bold' || weight === 'bolder' || (typeof weight === 'number' && weight >= 600) || (typeof weight === 'string' && Number(weight) >= 600);
}

/** Advance width of `text` in px at `size` px with the bundled font (kerning included). */
export function measureText(text: string, size: number, bold = false): number {
  if (!text) return 0;
  const cacheKey = `${bold ? 'b' : 'r'}${text}`;
  let units = widthCache.get(cacheKey);
  if (units === undefined) {
    const face = bold ? loadFonts().boldFace : loadFonts().regularFace;
    units = face.layout(text).advanceWidth / face.unitsPerEm;
    if (widthCache.size > 50_000) widthCache.clear();
    widthCache.set(cacheKey, units);
  }
  return units * size;
}

/** `text` cut with an ellipsis so that it fits `maxWidth` px. */
export function fitText(text: string, size: number, maxWidth: number, bold = false): string {
  if (measureText(text, size, bold) <= maxWidth) return text;
  if (maxWidth <= measureText('…', size, bold)) return '';
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measureText(`${text.slice(0, mid)}…`, size, bold) <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo).trimEnd()}…`;
}
