import type { RedisCause } from '../redis/connectError';
import type { LinkStatus } from '../redis/link';

/**
 * Why Redis is not used: how it fails (connect.ts's RedisCause: refused, auth, tls…), none is
 * configured, or the settings cannot be read. Views map each cause to words and a next step.
 */
export type StoreCause = RedisCause | 'not-configured' | 'settings-invalid';

/** Why a file source cannot be read now. */
export type SourceProblem = 'file-missing' | 'file-unreadable';

/** Why the fallback file is not served while offline. */
export type FallbackCause = SourceProblem | 'not-configured';

/** Whether a source can be read now; if not, why, in words a user can act on. */
export type SourceStatus = { ok: true } | { ok: false; problem: SourceProblem; message: string };

export type StoreState = StateEvent['state'];

interface StateBase {
  /** When this state began (epoch ms). */
  at: number;
  /** One sentence for status lines and logs, derived from the causes. */
  detail: string;
  /** Redis answers, but slower than the degraded threshold. */
  degraded: boolean;
  /** Why Redis is not used (sqlite, offline); undefined when not known. */
  cause?: StoreCause;
}

/** The store's state: where studies are read from, and why not from Redis when they are not. */
export type StateEvent =
  | (StateBase & { state: 'starting' })
  | (StateBase & { state: 'redis'; latencyMs: number })
  | (StateBase & { state: 'sqlite' })
  | (StateBase & { state: 'offline'; fallback: FallbackCause });

/** Everything the state is derived from. */
export interface StoreInputs {
  /** The Redis link's health; undefined when no Redis is configured. */
  redis: { where: string; status: LinkStatus } | undefined;
  /** The fallback file; undefined when none is configured. */
  fallback: { path: string; status: SourceStatus } | undefined;
}

export function startingState(at: number): StateEvent {
  return { state: 'starting', degraded: false, at, detail: 'starting' };
}

/** Nothing to read from: why, and why not from the fallback file. */
export function offlineState(
  cause: StoreCause | undefined,
  detail: string,
  at: number,
  fallback: FallbackCause = 'not-configured',
): StateEvent {
  return { state: 'offline', degraded: false, at, cause, fallback, detail };
}

/** The state the inputs call for: Redis when it answers, else the fallback file, else offline. */
export function deriveState(inputs: StoreInputs, at: number): StateEvent {
  const { redis, fallback } = inputs;
  if (redis?.status.up) {
    const s = redis.status;
    const latencyMs = s.latencyMs ?? 0;
    const detail = s.degraded
      ? `${redis.where} is slow: ${s.reason}`
      : `${redis.where} answered PING in ${latencyMs.toFixed(1)} ms`;
    return { state: 'redis', degraded: s.degraded, at, latencyMs, detail };
  }
  const cause: StoreCause | undefined = redis ? redis.status.cause : 'not-configured';
  const why = redis ? (redis.status.reason ?? 'Redis is unreachable') : 'no Redis configured';
  if (!fallback) return offlineState(cause, `${why}; no SQLite fallback file is configured`, at);
  if (!fallback.status.ok)
    return offlineState(cause, `${why}; ${fallback.status.message}`, at, fallback.status.problem);
  const detail = redis
    ? `${why}; serving the SQLite fallback ${fallback.path}`
    : `serving the SQLite file ${fallback.path} (no Redis configured)`;
  return { state: 'sqlite', degraded: false, at, cause, detail };
}

/** What a transition means to listeners: a new state, or the same state for a new reason. */
export type News = 'state' | 'cause' | undefined;

/**
 * The store's transition: the next state, and whether it is news. A change of state or of
 * degradation is a new state (and starts a new `at`); the same state for a new cause (refused,
 * then a wrong password; the fallback file appearing unreadable) is news for the views only;
 * a new latency or wording only updates the state in place.
 */
export function transition(
  prev: StateEvent,
  inputs: StoreInputs,
  now: number,
): { next: StateEvent; news: News } {
  const next = deriveState(inputs, now);
  if (next.state !== prev.state || next.degraded !== prev.degraded) return { next, news: 'state' };
  const kept = { ...next, at: prev.at };
  const newCause = next.cause !== prev.cause || fallbackOf(next) !== fallbackOf(prev);
  return { next: kept, news: newCause ? 'cause' : undefined };
}

function fallbackOf(e: StateEvent): FallbackCause | undefined {
  return e.state === 'offline' ? e.fallback : undefined;
}
