import type { Command, default as Redis } from 'ioredis';

/**
 * Calls `sent(n)` right after the n-th MGET (from 1) was written: on the shared connection
 * (sendCommand) or on a connection a journal reader opens for a long read (a duplicate of the
 * shared client, which writes its requests to the socket directly). Before any reply to it
 * can be read: a test can block the event loop there, or look at the reader's state.
 */
export function onMget(client: Redis, sent: (n: number) => void): void {
  let n = 0;
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((cmd: Command, stream?: never) => {
    const r = send(cmd, stream);
    if (cmd.name === 'mget') sent(++n);
    return r;
  }) as typeof client.sendCommand;
  const duplicate = client.duplicate.bind(client);
  client.duplicate = ((...args: Parameters<Redis['duplicate']>) => {
    const own = duplicate(...args);
    own.once('ready', () => {
      const socket = own.stream;
      const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
      socket.write = ((chunk: unknown, ...rest: unknown[]) => {
        const done = write(chunk, ...rest);
        if (Buffer.isBuffer(chunk) && chunk.includes('\r\nmget\r\n')) sent(++n);
        return done;
      }) as typeof socket.write;
    });
    return own;
  }) as typeof client.duplicate;
}
