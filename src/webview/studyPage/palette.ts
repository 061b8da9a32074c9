// The plots' colours (from the theme; see theme.ts). Types only: also used under Node in tests.
export interface Palette {
  fg: string;
  muted: string;
  bg: string;
  grid: string;
  accent: string;
  best: string;
  front: string;
  states: Record<string, string>;
  series: string[];
  font: string;
}
