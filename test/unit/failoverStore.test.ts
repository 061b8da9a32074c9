import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import { JournalActivity } from '../../src/core/optuna/activity';
import type { ReadIssue, Study } from '../../src/core/optuna/model';
import type { LinkStatus } from '../../src/core/redis/link';
import { FailoverStore } from '../../src/core/storage/failoverStore';
import type { StoreLink, StoreParts } from '../../src/core/storage/storeParts';
import type { SourceStatus, StateEvent } from '../../src/core/storage/storeState';
import type { JournalSource, SourceRefresh } from '../../src/core/storage/studySource';

const UP: LinkStatus = { up: true, degraded: false, latencyMs: 1, checkedAt: 0 };
const DOWN: LinkStatus = {
  up: false,
  degraded: false,
  reason: 'Redis at fake refused the connection',
  cause: 'refused',
  checkedAt: 0,
};

/** A Redis link whose health the test sets. */
class FakeLink extends EventEmitter<{ status: [LinkStatus] }> implements StoreLink {
  readonly where = 'redis://fake:6379';
  readonly client = {} as Redis;
  closed = false;
  reconnects = 0;
  constructor(
    public status: LinkStatus,
    private readonly announceOnStart = true,
  ) {
    super();
  }
  start(): void {
    if (this.announceOnStart) queueMicrotask(() => this.emit('status', this.status));
  }
  set(s: LinkStatus): void {
    this.status = s;
    this.emit('status', s);
  }
  async check(): Promise<LinkStatus> {
    return this.status;
  }
  reconnect(): void {
    this.reconnects++;
  }
  close(): void {
    this.closed = true;
  }
}

const study = (studyId: number, name: string, trials = 0): Study => ({
  studyId,
  name,
  directions: ['MINIMIZE'],
  userAttrs: {},
  systemAttrs: {},
  trials: Array.from({ length: trials }, (_, number) => ({
    trialId: number,
    number,
    studyId,
    state: 'COMPLETE',
    values: [number],
    params: {},
    distributions: {},
    intermediateValues: {},
    userAttrs: {},
    systemAttrs: {},
    datetimeStart: `2026-01-01T10:00:0${number}.000000`,
    datetimeComplete: null,
  })),
});

/**
 * A source whose next read the test decides: what it finds, whether it fails, and when it
 * ends (`hold` keeps reads pending until `release`). Records each read's signal.
 */
class FakeSource implements JournalSource {
  label = 'fake';
  list: Study[] = [];
  issueList: ReadIssue[] = [];
  state: SourceStatus = { ok: true };
  next: SourceRefresh = { entries: 0, changed: false };
  fail: Error | undefined;
  signals: AbortSignal[] = [];
  closed = false;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  constructor(readonly path = 'fake.db') {}

  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  async refresh(signal?: AbortSignal): Promise<SourceRefresh> {
    this.signals.push(signal!);
    if (this.gate) {
      const aborted = new Promise<never>((_r, reject) =>
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true }),
      );
      await Promise.race([this.gate, aborted]);
    }
    if (this.fail) throw this.fail;
    const r = this.next;
    this.next = { entries: 0, changed: false };
    return r;
  }
  studies(): Study[] {
    return this.list;
  }
  issues(): ReadIssue[] {
    return this.issueList;
  }
  status(): SourceStatus {
    return this.state;
  }
  activity(): JournalActivity {
    return new JournalActivity(() => undefined);
  }
  close(): void {
    this.closed = true;
  }
}

interface Rig {
  store: FailoverStore;
  link: FakeLink;
  journals: Map<string, FakeSource>;
  fallback: FakeSource;
  discoveries: number;
  events: StateEvent[];
  data: number;
}

function rig(o: { link?: LinkStatus | 'none'; prefixes?: string[]; found?: string[] } = {}): Rig {
  const link = new FakeLink(o.link === 'none' || o.link === undefined ? UP : o.link);
  const journals = new Map<string, FakeSource>();
  const fallback = new FakeSource();
  const r = { link, journals, fallback, discoveries: 0, events: [], data: 0 } as unknown as Rig;
  const parts: StoreParts = {
    link: o.link === 'none' ? undefined : () => link,
    discover: async () => {
      r.discoveries++;
      return { prefixes: o.found ?? [''], complete: true };
    },
    journal: (_link, prefix) => {
      const j = new FakeSource();
      journals.set(prefix, j);
      return j;
    },
    fallback,
  };
  r.store = new FailoverStore({ prefixes: o.prefixes }, parts);
  r.store.on('state', (e) => r.events.push(e));
  r.store.on('data', () => r.data++);
  return r;
}

describe('failover store driven by fake sources and a fake link', () => {
  it('starts in "starting", then announces the first state once', async () => {
    const r = rig();
    assert.equal(r.store.state.state, 'starting');
    const first = await r.store.start();
    assert.equal(first.state, 'redis');
    assert.deepEqual(
      r.events.map((e) => e.state),
      ['redis'],
    );
  });

  it('merges the primary prefix with the fallback by study name, others apart', async () => {
    const r = rig({ found: ['', 'team'] });
    await r.store.start();
    r.fallback.list = [study(1, 'shared', 2), study(2, 'only-sqlite', 1)];
    r.fallback.next = { entries: 0, changed: true };
    await r.store.refresh(); // discovers '' and 'team'
    r.journals.get('')!.list = [study(0, 'shared', 3)];
    r.journals.get('team')!.list = [study(0, 'shared', 1)];
    r.journals.get('')!.next = { entries: 5, changed: true };
    const sum = await r.store.refresh();
    assert.equal(sum.redisEntries, 5);
    const got = r.store.studies().map((s) => [s.prefix ?? 'sqlite', s.name, !!s.sqlite]);
    assert.deepEqual(got, [
      ['', 'shared', true],
      ['team', 'shared', false],
      ['sqlite', 'only-sqlite', true],
    ]);
  });

  it('Redis going away aborts the journal read in flight; the same refresh reads the fallback', async () => {
    const r = rig({ prefixes: ['p'] });
    await r.store.start();
    await r.store.refresh();
    const journal = r.journals.get('p')!;
    journal.hold();
    r.fallback.next = { entries: 0, changed: true };
    const pending = r.store.refresh();
    await new Promise((res) => setImmediate(res));
    r.link.set(DOWN);
    const sum = await pending;
    assert.equal(journal.signals.at(-1)!.aborted, true);
    assert.match(sum.errors[0], /refused the connection/);
    assert.equal(sum.sqliteReloaded, true, 'the fallback was read in the same refresh');
    assert.equal(r.store.state.state, 'sqlite');
    assert.deepEqual(
      r.events.map((e) => e.state),
      ['redis', 'sqlite'],
    );
  });

  it('offline while the fallback is missing; sqlite once it appears and a refresh reads it', async () => {
    const r = rig({ link: DOWN });
    r.fallback.state = {
      ok: false,
      problem: 'file-missing',
      message: 'the SQLite fallback fake.db does not exist yet',
    };
    assert.equal((await r.store.start()).state, 'offline');
    r.fallback.state = { ok: true };
    r.fallback.next = { entries: 0, changed: true };
    await r.store.refresh();
    assert.equal(r.store.state.state, 'sqlite');
    assert.equal(r.journals.size, 0, 'no journal is read while Redis is down');
    assert.equal(r.data, 1);
  });

  it('without Redis: no link, no discovery, the file is the store', async () => {
    const r = rig({ link: 'none' });
    const first = await r.store.start();
    assert.deepEqual([first.state, first.cause], ['sqlite', 'not-configured']);
    await r.store.refresh();
    assert.equal(r.discoveries, 0);
  });

  it('calls during a read share it', async () => {
    const r = rig({ prefixes: ['p'] });
    await r.store.start();
    await r.store.refresh();
    const journal = r.journals.get('p')!;
    const before = journal.signals.length;
    journal.hold();
    const a = r.store.refresh();
    const b = r.store.refresh();
    await new Promise((res) => setImmediate(res));
    journal.release();
    assert.equal(await a, await b);
    assert.equal(journal.signals.length, before + 1, 'one read for both callers');
  });

  it("a second caller's rediscovery is not dropped: it reads again after the running read", async () => {
    const r = rig({ found: ['a'] });
    await r.store.start();
    await r.store.refresh();
    assert.equal(r.discoveries, 1);
    const journal = r.journals.get('a')!;
    journal.hold();
    const plain = r.store.refresh();
    const rediscover = r.store.refresh({ rediscover: true });
    await new Promise((res) => setImmediate(res));
    journal.release();
    await plain;
    await rediscover;
    assert.equal(r.discoveries, 2, 'the rediscovery ran');
  });

  it('a fresh read does not share a read that began before it', async () => {
    const r = rig({ prefixes: ['p'] });
    await r.store.start();
    await r.store.refresh();
    const journal = r.journals.get('p')!;
    const before = journal.signals.length;
    journal.hold();
    const running = r.store.refresh();
    const fresh = r.store.refresh({ fresh: true });
    await new Promise((res) => setImmediate(res));
    journal.release();
    await running;
    await fresh;
    assert.equal(journal.signals.length, before + 2, 'the fresh call read again');
  });

  it("a caller's signal ends its own wait; the read stops only when nobody waits", async () => {
    const r = rig({ prefixes: ['p'] });
    await r.store.start();
    await r.store.refresh();
    const journal = r.journals.get('p')!;

    journal.hold();
    const mine = new AbortController();
    const waiting = r.store.refresh({ signal: mine.signal });
    const other = r.store.refresh(); // no signal: keeps the read going
    await new Promise((res) => setImmediate(res));
    mine.abort(new Error('closed the view'));
    await assert.rejects(waiting, /closed the view/);
    assert.equal(journal.signals.at(-1)!.aborted, false);
    journal.release();
    assert.deepEqual((await other).errors, []);

    journal.hold();
    const only = new AbortController();
    const alone = r.store.refresh({ signal: only.signal });
    await new Promise((res) => setImmediate(res));
    only.abort(new Error('cancelled'));
    await assert.rejects(alone, /cancelled/);
    assert.equal(journal.signals.at(-1)!.aborted, true, 'nobody waits: the read is aborted');
    journal.release();
  });

  it('emits data only after a read that changed something', async () => {
    const r = rig({ prefixes: ['p'] });
    await r.store.start();
    await r.store.refresh();
    const base = r.data;
    await r.store.refresh();
    assert.equal(r.data, base);
    r.journals.get('p')!.next = { entries: 0, changed: true }; // e.g. the journal was replaced
    await r.store.refresh();
    assert.equal(r.data, base + 1);
  });

  it('close closes the link and every source, and announces nothing more', async () => {
    const r = rig({ found: ['a', 'b'] });
    await r.store.start();
    await r.store.refresh();
    r.store.close();
    r.link.set(DOWN);
    assert.ok(r.link.closed && r.fallback.closed);
    assert.ok([...r.journals.values()].every((j) => j.closed));
    assert.deepEqual(
      r.events.map((e) => e.state),
      ['redis'],
    );
  });
});
