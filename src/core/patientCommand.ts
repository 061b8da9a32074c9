import { Command } from 'ioredis';
import type Redis from 'ioredis';
import type { CommandParameter } from 'ioredis/built/types';

type CommandOptions = ConstructorParameters<typeof Command>[2];

/**
 * Calls `onSilent` once a connection has received no bytes for `ms`: a deadline that every
 * byte received restarts. A reply may queue behind others on the same connection (a
 * 100,000-trial journal streams for seconds), so a deadline counted from the request would
 * fail a server that is busy answering. And the check runs one turn through the poll phase
 * after the timer fires: a replay that blocked the event loop fires the timer before the
 * socket's waiting bytes are read, which is the client's delay, not the server's silence.
 * Returns the function that stops watching.
 */
export function onSilence(received: () => number, ms: number, onSilent: () => void): () => void {
  let seen = received();
  let timer: NodeJS.Timeout | undefined;
  let turn: NodeJS.Immediate | undefined;
  const arm = () => {
    timer = setTimeout(() => {
      turn = setImmediate(() => {
        const now = received();
        if (now === seen) onSilent();
        else {
          seen = now;
          arm();
        }
      });
    }, ms);
  };
  arm();
  return () => {
    clearTimeout(timer);
    clearImmediate(turn);
  };
}

/**
 * A command whose timeout (ioredis' `commandTimeout`, our socketTimeout) is the connection's
 * silence rather than the time since it was sent: the journal's MGETs and the health check's
 * PING wait behind each other's replies, and on a loaded machine a fixed deadline failed
 * them while the server was still sending (it cut a 100,000-trial study's first read short).
 */
export class PatientCommand extends Command {
  constructor(
    name: string,
    args: CommandParameter[],
    options: CommandOptions,
    /** Bytes the connection received so far (its socket's `bytesRead`). */
    private readonly received: () => number,
  ) {
    super(name, args, options);
  }

  override setTimeout(ms: number): void {
    const stop = onSilence(this.received, ms, () => {
      if (!this.isResolved) this.reject(new Error('Command timed out'));
    });
    this.promise.then(stop, stop);
  }
}

/** Bytes `redis` received on its current connection. */
export const bytesReceived = (redis: Redis) => (): number => redis.stream?.bytesRead ?? 0;
