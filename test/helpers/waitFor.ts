import type { FailoverStore } from '../../src/core/storage/failoverStore';
import type { StateEvent, StoreState } from '../../src/core/storage/storeState';

/** Resolves with the first state event of the given state (or rejects after `timeoutMs`). */
export function nextState(
  store: FailoverStore,
  state: StoreState,
  timeoutMs = 15_000,
): Promise<StateEvent> {
  if (store.state.state === state) return Promise.resolve(store.state);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      store.off('state', on);
      reject(
        new Error(
          `store did not reach "${state}" within ${timeoutMs} ms (now ${store.state.state}: ${store.state.detail})`,
        ),
      );
    }, timeoutMs);
    const on = (e: StateEvent) => {
      if (e.state !== state) return;
      clearTimeout(t);
      store.off('state', on);
      resolve(e);
    };
    store.on('state', on);
  });
}

export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
