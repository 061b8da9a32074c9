/**
 * The reason the suite's signal aborts with (runner.ts): scenarios stop where they are and
 * clean up, and the waits of core/abort.ts reject with it.
 */
export class SuiteCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}
