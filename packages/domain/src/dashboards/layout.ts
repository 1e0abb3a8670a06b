import { AppErrors, ValidationError, type AppError } from '../errors.js';

/** Columns of the dashboard grid (contract §4.4 rule 27). */
export const GRID_COLUMNS = 12;
/** Largest accepted row and height (keeps positions sane; the contract gives only lower bounds). */
export const MAX_GRID_ROW = 10_000;
export const MAX_GRID_HEIGHT = 1_000;

/** A rectangle on the grid: 1-based row/column, width in columns, height in rows. */
export interface GridRect {
  row: number;
  column: number;
  width: number;
  height: number;
}

/** One element of an Update Dashboard Layout request (contract DashboardLayout). */
export interface LayoutItem extends GridRect {
  type: 'report';
  id: string;
}

/** True when two rectangles share at least one cell. */
export function overlaps(a: GridRect, b: GridRect): boolean {
  return a.column < b.column + b.width && b.column < a.column + a.width && a.row < b.row + b.height && b.row < a.row + a.height;
}

/** True when a rectangle lies on the grid (row ≥ 1, columns 1–12, sizes in range). */
export function isOnGrid(r: GridRect): boolean {
  return (
    Number.isInteger(r.row) &&
    Number.isInteger(r.column) &&
    Number.isInteger(r.width) &&
    Number.isInteger(r.height) &&
    r.row >= 1 &&
    r.row <= MAX_GRID_ROW &&
    r.column >= 1 &&
    r.column <= GRID_COLUMNS &&
    r.width >= 1 &&
    r.width <= GRID_COLUMNS &&
    r.column + r.width - 1 <= GRID_COLUMNS &&
    r.height >= 1 &&
    r.height <= MAX_GRID_HEIGHT
  );
}

/**
 * The first free position for a `width` × `height` element: top to bottom, then left to right
 * (first fit). Always succeeds: below every placed element there is room.
 */
export function findFreePosition(placed: readonly GridRect[], width: number, height: number): { row: number; column: number } {
  const w = Math.min(Math.max(1, width), GRID_COLUMNS);
  const bottom = placed.reduce((max, r) => Math.max(max, r.row + r.height), 1);
  for (let row = 1; row <= bottom; row++) {
    for (let column = 1; column + w - 1 <= GRID_COLUMNS; column++) {
      const candidate = { row, column, width: w, height };
      if (!placed.some((r) => overlaps(r, candidate))) return { row, column };
    }
  }
  return { row: bottom, column: 1 };
}

/**
 * Checks a complete layout for a dashboard's reports: every report exactly once, nothing else, every
 * element on the grid, no two overlapping.
 * @param reportIds the ids of every report on the dashboard
 * @throws AppErrors of ValidationError (422), each pointing at `/layout/<i>` (or `/layout` for a missing report)
 */
export function validateLayout(reportIds: readonly string[], items: readonly LayoutItem[]): void {
  const errors: AppError[] = [];
  const known = new Set(reportIds);
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const pointer = `/layout/${i}`;
    if (!known.has(item.id)) {
      errors.push(
        new ValidationError(`Layout element ${i}: report ${item.id} is not on this dashboard`, {
          code: 'layout_unknown_report',
          source: { pointer: `${pointer}/id` },
        }),
      );
      return;
    }
    if (seen.has(item.id)) {
      errors.push(
        new ValidationError(`Layout element ${i}: report ${item.id} is already placed by element ${seen.get(item.id)}`, {
          code: 'layout_duplicate_report',
          source: { pointer: `${pointer}/id` },
        }),
      );
      return;
    }
    seen.set(item.id, i);
    if (!isOnGrid(item)) {
      errors.push(
        new ValidationError(
          `Layout element ${i} (report ${item.id}) is off the grid: row ≥ 1, column 1–${GRID_COLUMNS}, width 1–${GRID_COLUMNS} with column + width - 1 ≤ ${GRID_COLUMNS}, height ≥ 1`,
          { code: 'layout_out_of_grid', source: { pointer } },
        ),
      );
    }
  });
  for (const id of reportIds) {
    if (!seen.has(id))
      errors.push(
        new ValidationError(`The layout has no element for report ${id}; it must place every report of the dashboard`, {
          code: 'layout_missing_report',
          source: { pointer: '/layout' },
        }),
      );
  }
  if (!errors.length) {
    for (let i = 0; i < items.length; i++) {
      for (let j = 0; j < i; j++) {
        if (overlaps(items[i]!, items[j]!)) {
          errors.push(
            new ValidationError(`Layout element ${i} (report ${items[i]!.id}) overlaps element ${j} (report ${items[j]!.id})`, {
              code: 'layout_overlap',
              source: { pointer: `/layout/${i}` },
            }),
          );
          break;
        }
      }
    }
  }
  if (errors.length) throw new AppErrors(errors);
}
