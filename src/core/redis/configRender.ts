import { splitConfigArgs } from './configFile';

/** A directive argument as redis.conf needs it: bare when safe, else double-quoted with escapes. */
export function quoteConfigArg(arg: string): string {
  if (/^[A-Za-z0-9_./:*+@,=-]+$/.test(arg)) return arg;
  const body = [...arg]
    .map((c) => {
      if (c === '\\' || c === '"') return `\\${c}`;
      if (c === '\n') return '\\n';
      if (c === '\r') return '\\r';
      if (c === '\t') return '\\t';
      const code = c.charCodeAt(0);
      return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
    })
    .join('');
  return `"${body}"`;
}

export function formatDirective(name: string, args: string[]): string {
  return [name, ...args.map(quoteConfigArg)].join(' ');
}

/**
 * Sets directives in a config text without disturbing anything else: each occurrence of a
 * directive is replaced on its own line (so Redis's "at line N" still points at the user's
 * line N), and a directive the text lacks is appended at the end under a marker comment.
 */
export function setDirectives(
  text: string,
  values: Array<[string, string[]]>,
  marker = '# Set by optuna-storage deploy',
): string {
  const wanted = new Map(values.map(([k, v]) => [k.toLowerCase(), v]));
  const seen = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i].trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const name = splitConfigArgs(trimmed)?.[0]?.toLowerCase();
    if (name === undefined || !wanted.has(name)) continue;
    lines[i] = formatDirective(name, wanted.get(name)!);
    seen.add(name);
  }
  const missing = [...wanted].filter(([k]) => !seen.has(k));
  if (missing.length === 0) return lines.join('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.push('', marker, ...missing.map(([k, v]) => formatDirective(k, v)), '');
  return lines.join('\n');
}
