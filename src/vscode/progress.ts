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
 * An AbortSignal for a cancellation token: aborted with Cancelled when the token is cancelled.
 * Dispose it when the work is done (the token's listener goes with it).
 */
export function signalOf(token: vscode.CancellationToken | undefined): vscode.Disposable & {
  signal: AbortSignal;
} {
  const abort = new AbortController();
  if (token?.isCancellationRequested) abort.abort(new Cancelled());
  const sub = token?.onCancellationRequested(() => abort.abort(new Cancelled()));
  return { signal: abort.signal, dispose: () => sub?.dispose() };
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
      const cancel = signalOf(token);
      try {
        return await work((message) => progress.report({ message }), cancel.signal);
      } finally {
        cancel.dispose();
      }
    },
  );
}
