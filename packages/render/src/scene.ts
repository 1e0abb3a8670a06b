// A laid-out picture: pages of positioned rectangles, texts and chart SVGs, in px. The layout is
// computed once; the SVG (→ PNG) and PDF backends only draw it, so both formats look the same.

import type { ReportBox } from './types.js';

interface RectItem {
  type: 'rect';
  x: number;
  y: number;
  width: number;
  height: number;
  fill: string;
  stroke?: string;
  radius?: number;
}

interface TextItem {
  type: 'text';
  x: number;
  /** Baseline. */
  y: number;
  text: string;
  size: number;
  bold?: boolean;
  color: string;
  anchor?: 'start' | 'middle' | 'end';
}

interface LineItem {
  type: 'line';
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  stroke: string;
}

/** A chart rendered by vega, placed at (x, y) with its own size. */
interface SvgItem {
  type: 'svg';
  x: number;
  y: number;
  width: number;
  height: number;
  svg: string;
}

export type SceneItem = RectItem | TextItem | LineItem | SvgItem;

export interface ScenePage {
  width: number;
  height: number;
  background: string;
  items: SceneItem[];
}

export interface Scene {
  pages: ScenePage[];
  boxes: ReportBox[];
}
