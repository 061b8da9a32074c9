// What every plot's ECharts option shares: the result type, the base option, axes, flat point
// arrays and the tooltips. Every tooltip uses the richText renderer (drawn on the canvas),
// because ECharts' HTML tooltip writes inline styles that the page's CSP forbids.
// No DOM in charts/: the options are built and unit-tested under Node with a fixed palette.
import type { Palette } from '../palette';

/** What a chart builder returns: the option, and what the caption should add. */
export interface Built {
  option: Record<string, unknown>;
  /** Said under the chart: what was left out and why. */
  notes: string[];
  /** Row of each data item of series `rowsOf.series`, for clicks. */
  rowsOf?: { series: number; rows: number[] }[];
}

/** Above this many points a series draws in ECharts' large mode (one path, no per-point hover effects). */
const LARGE = 2000;

export function base(p: Palette): Record<string, unknown> {
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: p.fg, fontFamily: p.font },
    tooltip: {
      renderMode: 'richText',
      confine: true,
      backgroundColor: p.bg,
      borderColor: p.grid,
      textStyle: { color: p.fg },
    },
  };
}

export function axis(p: Palette, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    axisLine: { lineStyle: { color: p.grid } },
    axisLabel: { color: p.muted, hideOverlap: true },
    splitLine: { lineStyle: { color: p.grid, opacity: 0.4 } },
    nameTextStyle: { color: p.muted },
    ...extra,
  };
}

export function finite(v: number): boolean {
  return Number.isFinite(v);
}

/** Scatter points shrink as they multiply, so a dense plot still shows its shape. */
export function pointSize(n: number): number {
  return n > 20000 ? 2 : n > 2000 ? 3 : 5;
}

/** The caption's note for trials whose value cannot be plotted. */
export function nonFiniteNote(n: number): string {
  return `${n} trial${n === 1 ? '' : 's'} with a NaN or infinite value not plotted.`;
}

/**
 * Points as one flat typed array (x0, y0, x1, y1, …) with named dimensions: ECharts reads it
 * without an object or array per point, which is what makes 100,000 points cheap.
 */
export function flat(
  values: number[],
  dimensions: string[],
): { data: Float64Array; dimensions: string[] } {
  return { data: Float64Array.from(values), dimensions };
}

/** A scatter series of flat points (see `flat`), in large mode when they are many. */
export function scatter(
  values: number[],
  dimensions: string[],
  extra: Record<string, unknown>,
): Record<string, unknown> {
  const n = values.length / dimensions.length;
  return {
    type: 'scatter',
    ...flat(values, dimensions),
    large: n > LARGE,
    largeThreshold: LARGE,
    ...extra,
  };
}

/** The base tooltip, shown for the item under the pointer. */
export function itemTooltip<T>(
  p: Palette,
  formatter: (item: T) => string,
): Record<string, unknown> {
  return { ...(base(p).tooltip as object), trigger: 'item', formatter };
}

/** A tooltip naming the trial of a point, found by the point's index in its series. */
export function trialTooltip(
  p: Palette,
  rowsOf: Array<{ series: number; rows: number[] }>,
  text: (row: number, seriesName: string) => string,
): Record<string, unknown> {
  return itemTooltip(p, (i: { seriesIndex: number; dataIndex: number; seriesName: string }) => {
    const row = rowsOf.find((x) => x.series === i.seriesIndex)?.rows[i.dataIndex];
    return row === undefined ? '' : text(row, i.seriesName);
  });
}
