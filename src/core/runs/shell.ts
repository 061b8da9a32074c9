/**
 * POSIX shell quoting. A word made only of characters no shell treats specially is left
 * bare (so `--start 20220729` reads naturally); anything else is wrapped in single quotes,
 * inside which sh, bash, dash, zsh and ksh expand nothing, and an embedded `'` is written
 * as `'\''` (close, escaped quote, reopen). The result is one word, never code.
 */
const BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuote(s: string): string {
  if (s !== '' && BARE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Characters that cannot appear in a shell argument at all (NUL) or that would end a typed line. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
