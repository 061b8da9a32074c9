// The timeline's zoom window and how a key or a button moves it (pure: unit-tested in Node).

/** The part of the time axis shown, in percent of the whole span (ECharts' dataZoom terms). */
export interface ZoomWindow {
  start: number;
  end: number;
}

export type ZoomStep = 'in' | 'out' | 'left' | 'right' | 'reset';

/** Narrowest window: a 100,000-trial study over days still shows a few minutes. */
const MIN_WIDTH = 0.05;

/** The key on the focused plot that zooms or pans, if any. */
export function zoomKey(key: string): ZoomStep | undefined {
  switch (key) {
    case '+':
    case '=':
      return 'in';
    case '-':
    case '_':
      return 'out';
    case 'ArrowLeft':
      return 'left';
    case 'ArrowRight':
      return 'right';
    case '0':
    case 'Home':
      return 'reset';
    default:
      return undefined;
  }
}

/**
 * The window after one step: zoom halves or doubles the width around its centre, a pan moves it
 * by a quarter of its width; always inside 0–100. `initial` is where reset goes.
 */
export function zoomWindow(w: ZoomWindow, step: ZoomStep, initial: ZoomWindow): ZoomWindow {
  if (step === 'reset') return { ...initial };
  const width = w.end - w.start;
  const centre = (w.start + w.end) / 2;
  const fit = (start: number, size: number): ZoomWindow => {
    const s = Math.max(0, Math.min(start, 100 - size));
    return { start: s, end: Math.min(100, s + size) };
  };
  switch (step) {
    case 'in': {
      const size = Math.max(MIN_WIDTH, width / 2);
      return fit(centre - size / 2, size);
    }
    case 'out': {
      const size = Math.min(100, width * 2);
      return fit(centre - size / 2, size);
    }
    case 'left':
      return fit(w.start - width / 4, width);
    case 'right':
      return fit(w.start + width / 4, width);
  }
}

/** "Showing 12.5 % of the time span": the window in words. */
export function zoomText(w: ZoomWindow): string {
  const pct = w.end - w.start;
  if (pct >= 99.95) return 'Showing the whole time span';
  const p = pct >= 10 ? pct.toFixed(0) : pct >= 1 ? pct.toFixed(1) : pct.toPrecision(2);
  return `Showing ${p} % of the time span (${w.start.toFixed(1)}–${w.end.toFixed(1)} %)`;
}
