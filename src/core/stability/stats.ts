/** Nearest-rank percentile of unsorted samples; undefined when there are none. */
export function percentile(samples: number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/** Rounds to a fixed number of decimals for metrics (keeps reports readable). */
export function round(x: number | undefined, decimals = 2): number | null {
  if (x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

export function latencySummary(samples: number[], name: string): Record<string, number | null> {
  return {
    [`${name}_p50_ms`]: round(percentile(samples, 50), 3),
    [`${name}_p95_ms`]: round(percentile(samples, 95), 3),
    [`${name}_p99_ms`]: round(percentile(samples, 99), 3),
    [`${name}_max_ms`]: round(
      samples.length ? samples.reduce((a, b) => Math.max(a, b), -Infinity) : undefined,
      3,
    ),
  };
}
