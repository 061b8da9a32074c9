import * as fs from 'node:fs';
import * as path from 'node:path';

/** One directive of a redis.conf, with where it was written (for findings that name the line). */
export interface ConfigDirective {
  /** Lower-cased, as Redis matches directive names case-insensitively. */
  name: string;
  args: string[];
  file: string;
  /** 1-based. */
  line: number;
}

export class ConfigSyntaxError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(`${file}:${line}: ${message}`);
  }
}

/**
 * Splits one line as Redis's `sdssplitargs` does: whitespace-separated words, "double quotes"
 * with \n \r \t \b \a \\ \" \xHH escapes, 'single quotes' with only \' escaped; a closing
 * quote must be followed by whitespace or the end of the line.
 */
export function splitConfigArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: string | undefined) =>
    c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    let cur = '';
    let inDq = false;
    let inSq = false;
    for (;;) {
      const c = line[i];
      if (inDq) {
        if (c === undefined) return null;
        if (
          c === '\\' &&
          line[i + 1] === 'x' &&
          /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))
        ) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          const e = line[++i];
          cur +=
            e === 'n'
              ? '\n'
              : e === 'r'
                ? '\r'
                : e === 't'
                  ? '\t'
                  : e === 'b'
                    ? '\b'
                    : e === 'a'
                      ? '\x07'
                      : e;
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          i++;
          break;
        } else cur += c;
      } else if (inSq) {
        if (c === undefined) return null;
        if (c === '\\' && line[i + 1] === "'") {
          cur += "'";
          i++;
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          i++;
          break;
        } else cur += c;
      } else if (c === undefined || isSpace(c)) {
        break;
      } else if (c === '"') inDq = true;
      else if (c === "'") inSq = true;
      else cur += c;
      i++;
    }
    out.push(cur);
  }
}

/** Parses the text of one config file; `include` directives are returned, not followed. */
export function parseConfigText(text: string, file: string): ConfigDirective[] {
  const out: ConfigDirective[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i].trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const args = splitConfigArgs(trimmed);
    if (args === null)
      throw new ConfigSyntaxError('unbalanced quotes in configuration line', file, i + 1);
    if (args.length === 0) continue;
    out.push({ name: args[0].toLowerCase(), args: args.slice(1), file, line: i + 1 });
  }
  return out;
}

/**
 * Reads a redis.conf and the files it includes, in the order Redis applies them. Redis
 * resolves a relative include against its working directory; here it is resolved against the
 * including file's directory, which is where such a file almost always is.
 */
export function loadConfigFile(
  file: string,
  readFile: (p: string) => string = (p) => fs.readFileSync(p, 'utf8'),
  seen = new Set<string>(),
): ConfigDirective[] {
  const abs = path.resolve(file);
  if (seen.has(abs)) throw new Error(`${abs} includes itself`);
  seen.add(abs);
  const out: ConfigDirective[] = [];
  for (const d of parseConfigText(readFile(abs), abs)) {
    if (d.name !== 'include') {
      out.push(d);
      continue;
    }
    if (d.args.length !== 1)
      throw new ConfigSyntaxError('include needs exactly one file', d.file, d.line);
    out.push(...loadConfigFile(path.resolve(path.dirname(abs), d.args[0]), readFile, seen));
  }
  seen.delete(abs);
  return out;
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  kb: 1024,
  m: 1e6,
  mb: 1024 ** 2,
  g: 1e9,
  gb: 1024 ** 3,
};

/** Redis memory units ("1gb" = 1024^3, "1g" = 10^9, case-insensitive); null when not a size. */
export function parseMemory(text: string): number | null {
  const m = /^(-?\d+)([kmg]b?)?$/i.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()];
}

/** Directives that accumulate when repeated instead of the last one winning. */
const ACCUMULATING = new Set(['save']);
const MEMORY_SETTINGS = new Set([
  'maxmemory',
  'auto-aof-rewrite-min-size',
  'client-query-buffer-limit',
  'proto-max-bulk-len',
]);

/** What a setting is and where it came from, in the shape `CONFIG GET` reports it. */
export interface FileSetting {
  value: string;
  /** "file:line" of the directive that set it (the last one, for accumulating ones). */
  where: string;
}

/**
 * The effective settings of a parsed config, as `CONFIG GET` would report them once loaded:
 * the last directive wins, repeated `save` lines accumulate (`save ""` clears them), sizes
 * in bytes, multi-word values joined by spaces.
 */
export function effectiveSettings(directives: ConfigDirective[]): Map<string, FileSetting> {
  const out = new Map<string, FileSetting>();
  for (const d of directives) {
    const where = `${d.file}:${d.line}`;
    if (ACCUMULATING.has(d.name)) {
      const prev = out.get(d.name);
      const add = d.args.filter((a) => a !== '').join(' ');
      const value =
        d.args.length === 1 && d.args[0] === ''
          ? ''
          : [prev?.value ?? '', add].filter(Boolean).join(' ');
      out.set(d.name, { value, where });
      continue;
    }
    let value = d.args.join(' ');
    if (MEMORY_SETTINGS.has(d.name) && d.args.length === 1) {
      const bytes = parseMemory(d.args[0]);
      if (bytes !== null) value = String(bytes);
    }
    out.set(d.name, { value, where });
  }
  return out;
}
