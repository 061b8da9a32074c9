/** `INFO` as sections of `key: value` text, with typed accessors for the fields rules read. */
export class RedisInfo {
  constructor(readonly sections: Map<string, Map<string, string>>) {}

  /** A field from any section. */
  get(key: string): string | undefined {
    for (const s of this.sections.values()) {
      const v = s.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** A numeric field, or undefined when absent or not a number. */
  num(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined || v.trim() === '') return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }

  /** `db0:keys=1,expires=0,avg_ttl=0` lines of the keyspace section. */
  keyspace(): Array<{ db: number; keys: number; expires: number }> {
    const out: Array<{ db: number; keys: number; expires: number }> = [];
    for (const [k, v] of this.sections.get('keyspace') ?? []) {
      const m = /^db(\d+)$/.exec(k);
      if (!m) continue;
      const fields = parseFieldList(v);
      out.push({
        db: Number(m[1]),
        keys: Number(fields.keys ?? 0),
        expires: Number(fields.expires ?? 0),
      });
    }
    return out.sort((a, b) => a.db - b.db);
  }
}

/** Parses the reply of `INFO [section]`: "# Section" headers and "key:value" lines. */
export function parseInfo(text: string): RedisInfo {
  const sections = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  sections.set('', current);
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '') continue;
    if (line.startsWith('#')) {
      current = new Map();
      sections.set(line.slice(1).trim().toLowerCase(), current);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) current.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return new RedisInfo(sections);
}

/** "a=1,b=2" (keyspace lines, errorstats, commandstats) as a record. */
export function parseFieldList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
