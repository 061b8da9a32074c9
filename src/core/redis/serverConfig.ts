import type Redis from 'ioredis';

/** Settings whose values are secrets: read as "set"/"" so no caller can print them. */
const SECRET_SETTINGS = new Set([
  'requirepass',
  'masterauth',
  'tls-key-file-pass',
  'tls-client-key-file-pass',
]);
export const SECRET_PLACEHOLDER = '(set)';

/**
 * Config lines in text from redis-server (its FATAL CONFIG FILE ERROR quotes the line it
 * refuses: `>>> 'requirepass "pw" extra'`) or from its log, with secret values replaced: the
 * value of a secret setting, and the passwords and hashes (`>pw`, `<pw`, `#hash`, `!hash`) of
 * an ACL `user` line.
 */
export function redactConfigSecrets(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const m = /^(\s*(?:>>> ')?\s*)(\S+)(.*)$/.exec(line);
      if (!m) return line;
      const name = m[2].toLowerCase();
      const close = m[1].includes("'") && m[3].endsWith("'") ? "'" : '';
      if (SECRET_SETTINGS.has(name)) return `${m[1]}${m[2]} ***${close}`;
      if (name === 'user') return line.replace(/(\s)[<>#!]\S+/g, '$1***');
      return line;
    })
    .join('\n');
}

/**
 * The running server's settings (`CONFIG GET *`), secrets replaced by a placeholder.
 * Returns null when CONFIG is disabled or renamed (hardened servers), so callers can still
 * check what INFO tells them.
 */
export async function readServerConfig(redis: Redis): Promise<Map<string, string> | null> {
  let flat: string[];
  try {
    flat = (await redis.call('CONFIG', 'GET', '*')) as string[];
  } catch (e) {
    if (/unknown command|NOPERM|no permissions/i.test((e as Error).message)) return null;
    throw e;
  }
  return configReplyToMap(flat);
}

/**
 * The flat `CONFIG GET` reply (name, value, name, value, …) as a Map of lower-case names,
 * secrets replaced by a placeholder.
 */
export function configReplyToMap(flat: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i].toLowerCase();
    out.set(
      name,
      SECRET_SETTINGS.has(name) ? (flat[i + 1] === '' ? '' : SECRET_PLACEHOLDER) : flat[i + 1],
    );
  }
  return out;
}
