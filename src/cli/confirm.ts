import * as readline from 'node:readline';
import type { CliIo } from './command';

/**
 * Asks "question [y/N]" on the terminal. `yes` (the flag named `flag`, --yes unless said)
 * answers for the user; without a terminal (a script, CI) there is nobody to ask, so the
 * answer is a refusal with the reason.
 */
export async function confirm(
  io: CliIo,
  question: string,
  yes: boolean,
  flag = '--yes',
): Promise<{ ok: boolean; reason?: string }> {
  if (yes) return { ok: true };
  if (!process.stdin.isTTY)
    return {
      ok: false,
      reason: `standard input is not a terminal, so nobody can confirm: pass ${flag} to go ahead`,
    };
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(`${question} [y/N] `, resolve);
      io.signal.addEventListener('abort', () => resolve(''), { once: true });
    });
    return /^y(es)?$/i.test(answer.trim()) ? { ok: true } : { ok: false, reason: 'not confirmed' };
  } finally {
    rl.close();
  }
}
