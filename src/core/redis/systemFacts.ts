import * as fs from 'node:fs';
import type { SystemFacts } from './doctorRules';

function readNumber(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Soft "Max open files" of a process (`self` or a pid) from /proc/<pid>/limits; undefined
 * when unreadable or unlimited.
 */
export function openFilesLimit(pid: number | 'self' = 'self'): number | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
    const m = /^Max open files\s+(\S+)/m.exec(text);
    return m && /^\d+$/.test(m[1]) ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** somaxconn and the open-file limit this process passes on to a redis-server it starts. */
export function localSystemFacts(): SystemFacts {
  return {
    somaxconn: readNumber('/proc/sys/net/core/somaxconn'),
    openFilesLimit: openFilesLimit('self'),
  };
}
