/** A Redis endpoint as users write it: `redis://[[user]:password@]host[:port][/db]` or `rediss://` (TLS). */
export interface RedisEndpoint {
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
}

export function parseRedisUrl(url: string): RedisEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`not a Redis URL: ${redactUrl(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new Error(`not a Redis URL (expected redis:// or rediss://): ${redactUrl(url)}`);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    throw new Error(`invalid Redis database index "${dbText}" in ${redactUrl(url)}`);
  const port = u.port === '' ? 6379 : Number(u.port);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port,
    db,
    tls: u.protocol === 'rediss:',
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
  };
}

/** The URL with any password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/)([^@/]*)@/, (_m, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return colon < 0 ? `${scheme}${auth}@` : `${scheme}${auth.slice(0, colon)}:***@`;
  });
}

/** The URL without its password, and that password (decoded) when it has one. */
export function splitPassword(url: string): { url: string; password?: string } {
  const u = new URL(url);
  if (!u.password) return { url };
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), password };
}

/** A loopback host name or address: a server there is on this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/** `host:port[/db]` for messages: never includes credentials. */
export function describeEndpoint(e: RedisEndpoint): string {
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  return `${e.tls ? 'rediss' : 'redis'}://${host}:${e.port}${e.db ? `/${e.db}` : ''}`;
}
