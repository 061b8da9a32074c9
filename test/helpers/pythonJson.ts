export { pythonDumps } from '../../src/core/optuna/pythonJson';

/** Marks a JS number as a Python int for pythonDumps (ints are written without ".0"). */
export function int(n: number): bigint {
  return BigInt(n);
}
