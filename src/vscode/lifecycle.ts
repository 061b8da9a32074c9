/**
 * Work started in the background (not awaited by whoever started it): each failure is
 * reported, and `close` waits for what is still running, so that shutting down never cuts a
 * history save or a final read in half.
 */
export class BackgroundWork {
  private readonly pending = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly onError: (what: string, e: unknown) => void) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts `work` now, unless closed. */
  run(what: string, work: () => PromiseLike<unknown>): void {
    if (this.closed) return;
    const p: Promise<void> = Promise.resolve()
      .then(work)
      .then(
        () => undefined,
        (e) => this.onError(what, e),
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Accepts no new work; resolves when the work in flight has settled. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.pending.size > 0) await Promise.all(this.pending);
  }
}

/** Anything with a dispose method: vscode.Disposable, an EventEmitter, a plain object. */
export interface IDisposable {
  dispose(): unknown;
}

/**
 * A base for objects that own disposables (the pattern of vscode-pull-request-github's
 * common/lifecycle.ts): `_register` keeps one and returns it, `dispose` disposes them all, the
 * last registered first, once. Something registered after disposal is disposed at once.
 */
export abstract class Disposable implements IDisposable {
  private readonly owned: IDisposable[] = [];
  private disposed = false;

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  protected _register<T extends IDisposable>(d: T): T {
    if (this.disposed) d.dispose();
    else this.owned.push(d);
    return d;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.owned.splice(0).reverse()) d.dispose();
  }
}
