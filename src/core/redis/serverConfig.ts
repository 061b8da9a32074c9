import type Redis from 'ioredis';

/** Settings whose values are secrets: read as "set"/"" so no caller can print them. */
const SECRET_SETTINGS = new Set(['requirepass', 'masterauth']);
export const SECRET_PLACEHOLDER = '(set)';

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
