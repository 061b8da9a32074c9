import * as vscode from 'vscode';

/** The reason a cancelled operation rejects with, so that callers tell it from a failure. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/** Whether an error is (or was caused by) a cancellation through withCancellableProgress. */
export function isCancelled(e: unknown): boolean {
  for (let x = e; x instanceof Error; x = x.cause) if (x instanceof Cancelled) return true;
  return false;
}

/**
 * Runs work under a cancellable notification: each step is reported (and logged by the
 * caller), and Cancel aborts the signal the work honours, so cancelling really stops it.
 */
export function withCancellableProgress<T>(
  title: string,
  work: (report: (message: string) => void, signal: AbortSignal) => Promise<T>,
): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort(new Cancelled()));
      try {
        return await work((message) => progress.report({ message }), abort.signal);
      } finally {
        sub.dispose();
      }
    },
  );
}
