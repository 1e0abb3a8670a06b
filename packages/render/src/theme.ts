// Colors and fonts of the light and dark themes. Browser-safe (no Node API): the spec builder uses it.

import type { RenderTheme } from './types.js';

/** The family name of the bundled font (Inter, SIL OFL); every picture uses it, nothing else. */
export const FONT_FAMILY = 'Inter';

/** The dashboard color schemes of the contract (§3.4 `color_scheme`), as category palettes. */
export const COLOR_SCHEMES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  // 1 Blue Ocean
  scheme_1: ['#1f4e79', '#2e75b6', '#5b9bd5', '#9dc3e6', '#0f2f4d', '#41719c', '#7fa7d1', '#c5dcf0'],
  // 2 Bluegrass
  scheme_2: ['#1b6f6a', '#2a9d8f', '#5fbfb3', '#8ecae6', '#126782', '#219ebc', '#a8dadc', '#457b9d'],
  // 3 Green Meadow
  scheme_3: ['#2d6a4f', '#40916c', '#52b788', '#74c69d', '#95d5b2', '#1b4332', '#b7e4c7', '#081c15'],
  // 4 Violet Sky
  scheme_4: ['#5a189a', '#7b2cbf', '#9d4edd', '#c77dff', '#3c096c', '#e0aaff', '#6a4c93', '#b185db'],
  // 5 Vibrant Sunset
  scheme_5: ['#d62828', '#f77f00', '#fcbf49', '#e76f51', '#9d0208', '#f4a261', '#dc2f02', '#ffba08'],
  // 6 Colorful (default)
  scheme_6: ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'],
  // 7 Colorful Variant 2
  scheme_7: ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'],
  // 8 Colorful Variant 3
  scheme_8: ['#e41a1c', '#377eb8', '#4daf4a', '#984ea3', '#ff7f00', '#a65628', '#f781bf', '#999999'],
});

/** The default color scheme (contract dflt `scheme_6`). */
export const DEFAULT_COLOR_SCHEME = 'scheme_6';

/** The colors of one theme. */
export interface ThemeColors {
  /** Page background. */
  background: string;
  /** Report card background and border. */
  card: string;
  cardBorder: string;
  /** Main text (titles, values). */
  text: string;
  /** Secondary text (axis labels, data times, parameters). */
  mutedText: string;
  /** Grid lines and table rules. */
  grid: string;
  /** Table header background and zebra stripe. */
  tableHeader: string;
  tableStripe: string;
  /** Error and placeholder text. */
  error: string;
  placeholder: string;
}

const LIGHT: ThemeColors = {
  background: '#f4f5f7',
  card: '#ffffff',
  cardBorder: '#dcdfe4',
  text: '#1d2330',
  mutedText: '#5c6473',
  grid: '#e3e6eb',
  tableHeader: '#eef0f3',
  tableStripe: '#f8f9fa',
  error: '#b42318',
  placeholder: '#8a93a3',
};

const DARK: ThemeColors = {
  background: '#14171c',
  card: '#1e232b',
  cardBorder: '#323945',
  text: '#e8ebf0',
  mutedText: '#a3abb8',
  grid: '#353c48',
  tableHeader: '#2a303a',
  tableStripe: '#232831',
  error: '#ff8a80',
  placeholder: '#7d8696',
};

/** The colors of `theme`. */
export function themeColors(theme: RenderTheme = 'light'): ThemeColors {
  return theme === 'dark' ? DARK : LIGHT;
}

/** The category palette of a color scheme (unknown names fall back to the default scheme). */
export function schemePalette(colorScheme?: string | null): readonly string[] {
  return COLOR_SCHEMES[colorScheme ?? DEFAULT_COLOR_SCHEME] ?? COLOR_SCHEMES[DEFAULT_COLOR_SCHEME]!;
}
