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

/**
 * Characters no value may hold: C0 controls and DEL (NUL cannot be an argument, a newline
 * would end a typed line), C1 controls (U+0080–009F; some terminals act on them), the line
 * and paragraph separators, and the bidi overrides and isolates (U+202A–202E, U+2066–2069),
 * which make a terminal or a preview show text in another order than the one that runs.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
