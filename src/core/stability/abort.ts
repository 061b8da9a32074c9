/** Thrown when the suite is cancelled: scenarios stop where they are and clean up. */
export class SuiteCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new SuiteCancelled();
}

/** Waits `ms`, or rejects with SuiteCancelled as soon as the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new SuiteCancelled());
    const onAbort = () => {
      clearTimeout(t);
      reject(new SuiteCancelled());
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles with `p`, or rejects with SuiteCancelled when the signal fires first (then `p` is
 * left to settle on its own, its rejection swallowed).
 */
export function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(new SuiteCancelled());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => undefined);
      reject(new SuiteCancelled());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Resolves when `cond()` holds (polled every `everyMs`); false after `timeoutMs`. */
export async function pollUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  signal?: AbortSignal,
  everyMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs, signal);
  }
}
