/**
 * A typed-array column copied into a longer one (the table's columns double as rows are
 * added, so a replay of n trials copies each column O(log n) times).
 */
export function grown<T extends Float64Array | Int32Array | Int8Array | Uint8Array | Uint32Array>(
  a: T,
  capacity: number,
  fill?: number,
): T {
  const b = new (a.constructor as new (n: number) => T)(capacity);
  b.set(a);
  if (fill !== undefined) b.fill(fill, a.length);
  return b;
}
