/** A Redis endpoint as users write it: `redis://[[user]:password@]host[:port][/db]` or `rediss://` (TLS). */
export interface RedisEndpoint {
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
}

/** What a Redis URL should look like, for error messages (which never echo the URL itself). */
export const REDIS_URL_FORM = 'redis://[[user]:password@]host[:port][/db] or rediss://…';

/**
 * A URL cut into its scheme (with the slashes that follow it), userinfo and the rest, without
 * a URL parser: the userinfo ends at the LAST '@', so a password holding '/', '?', '#', ':' or
 * '@' (base64 secrets, typed by hand) stays whole, and a typo such as `redis:/…` is cut the
 * same way. Redaction and parsing both use this cut, so what is hidden is what is sent.
 */
function cutUserinfo(url: string): { head: string; userinfo?: string; tail: string } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/*)?([\s\S]*)$/.exec(url)!;
  const head = m[1] ?? '';
  const rest = m[2];
  const at = rest.lastIndexOf('@');
  if (at < 0) return { head, tail: rest };
  return { head, userinfo: rest.slice(0, at), tail: rest.slice(at + 1) };
}

/** The user name and password of a userinfo (`user:password`, `:password` or `user`). */
function splitUserinfo(userinfo: string): { user: string; password?: string } {
  const colon = userinfo.indexOf(':');
  if (colon < 0) return { user: userinfo }; // as redis-py reads it: a user name alone
  return { user: userinfo.slice(0, colon), password: userinfo.slice(colon + 1) };
}

/** Percent-decodes what was percent-encoded, and keeps a literal '%' that was not. */
function decodeLenient(s: string): string {
  return s.replace(/(%[0-9A-Fa-f]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
}

export function parseRedisUrl(url: string): RedisEndpoint {
  const { head, userinfo, tail } = cutUserinfo(url.trim());
  const scheme = head.toLowerCase();
  if (scheme !== 'redis://' && scheme !== 'rediss://')
    throw new Error(`not a Redis URL (expected ${REDIS_URL_FORM})`);
  let u: URL;
  try {
    // Only host, port and db are left to the URL parser: the credentials never reach it.
    u = new URL(`${scheme}${tail}`);
  } catch {
    throw new Error(`not a Redis URL: the part after the credentials is not host[:port][/db]`);
  }
  if (u.search || u.hash || u.username || u.password)
    throw new Error(`not a Redis URL (expected ${REDIS_URL_FORM}; nothing after the db number)`);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!/^\d*$/.test(dbText) || !Number.isSafeInteger(db))
    throw new Error(`invalid Redis database index "${dbText}" in ${describeHost(u)}`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const auth = userinfo === undefined ? undefined : splitUserinfo(userinfo);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port,
    db,
    tls: scheme === 'rediss://',
    username: auth?.user ? decodeLenient(auth.user) : undefined,
    password: auth?.password ? decodeLenient(auth.password) : undefined,
  };
}

function describeHost(u: URL): string {
  return `${u.protocol}//${u.host}`;
}

/**
 * The text with the password of a URL in it replaced, for messages and logs. Works on any
 * string, parsed or not: everything between the scheme and the last '@' is hidden but a user
 * name that is a plain word before a ':' (a lone word there, or one holding characters no
 * user name has, may be a misplaced password).
 */
export function redactUrl(url: string): string {
  const { head, userinfo, tail } = cutUserinfo(url);
  if (userinfo === undefined) return url;
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? '' : userinfo.slice(0, colon);
  return /^[A-Za-z0-9_.-]{1,64}$/.test(user) ? `${head}${user}:***@${tail}` : `${head}***@${tail}`;
}

/** The URL without its password, and that password (decoded) when it has one. */
export function splitPassword(url: string): { url: string; password?: string } {
  const { head, userinfo, tail } = cutUserinfo(url);
  if (userinfo === undefined) return { url };
  const { user, password } = splitUserinfo(userinfo);
  if (!password) return { url };
  return { url: `${head}${user ? `${user}@` : ''}${tail}`, password: decodeLenient(password) };
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
