// Colours from VS Code's theme variables, read again whenever the theme changes.
import type { Palette } from './palette';

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function palette(): Palette {
  const dark =
    document.body.classList.contains('vscode-dark') ||
    document.body.classList.contains('vscode-high-contrast');
  const blue = cssVar('--vscode-charts-blue', '#3794ff');
  const red = cssVar('--vscode-charts-red', '#f14c4c');
  const green = cssVar('--vscode-charts-green', '#89d185');
  const yellow = cssVar('--vscode-charts-yellow', '#cca700');
  const orange = cssVar('--vscode-charts-orange', '#d18616');
  const purple = cssVar('--vscode-charts-purple', '#b180d7');
  const fg = cssVar('--vscode-editor-foreground', dark ? '#cccccc' : '#333333');
  return {
    fg,
    muted: cssVar('--vscode-descriptionForeground', dark ? '#9d9d9d' : '#717171'),
    bg: cssVar('--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'),
    grid: cssVar('--vscode-editorWidget-border', dark ? '#454545' : '#c8c8c8'),
    accent: blue,
    best: orange,
    front: red,
    states: {
      COMPLETE: blue,
      PRUNED: yellow,
      FAIL: red,
      RUNNING: green,
      WAITING: cssVar('--vscode-disabledForeground', '#888888'),
    },
    series: [blue, orange, green, purple, red, yellow],
    font: cssVar('--vscode-font-family', 'sans-serif'),
  };
}

/** Calls `onChange` when VS Code switches the theme (it changes the body's classes). */
export function onThemeChange(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, {
    attributes: true,
    attributeFilter: ['class'],
  });
}
