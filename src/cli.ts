import { type CliCommand, type CliIo, EXIT_BAD_INPUT, UsageError } from './cli/command';

/**
 * The verbs, each loaded only when it runs (or for the usage text): `studies` of an SQLite
 * file never loads the Redis client, and start-up is part of what every command costs.
 */
const COMMANDS: Array<[string, () => Promise<CliCommand>]> = [
  ['dump', async () => (await import('./cli/dump')).dumpCommand],
  ['studies', async () => (await import('./cli/studies')).studiesCommand],
  ['suite', async () => (await import('./cli/suite')).suiteCommand],
  ['watch', async () => (await import('./cli/watch')).watchCommand],
  ['doctor', async () => (await import('./cli/doctor')).doctorCommand],
  ['deploy', async () => (await import('./cli/deploy')).deployCommand],
  ['start', async () => (await import('./cli/start')).startCommand],
  ['monitor', async () => (await import('./cli/monitor')).monitorCommand],
  ['backup', async () => (await import('./cli/backup')).backupCommand],
  ['export', async () => (await import('./cli/export')).exportCommand],
  ['import', async () => (await import('./cli/import')).importCommand],
  ['reconcile', async () => (await import('./cli/reconcile')).reconcileCommand],
  ['writers', async () => (await import('./cli/writers')).writersCommand],
];

async function usage(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map(([, load]) => load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: optuna-storage <command> [options]

Reads and manages the storage behind Optuna studies (Redis journal, journal file, SQLite).

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "optuna-storage <command> --help" for a command's options.
`;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(await usage());
    return name === undefined ? EXIT_BAD_INPUT : 0;
  }
  const load = COMMANDS.find(([n]) => n === name)?.[1];
  if (!load) {
    io.stderr(`optuna-storage: unknown command "${name}"\n\n${await usage()}`);
    return EXIT_BAD_INPUT;
  }
  const cmd = await load();
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout(cmd.help.endsWith('\n') ? cmd.help : cmd.help + '\n');
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed options.
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (e instanceof UsageError || code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(
        `optuna-storage ${cmd.name}: ${(e as Error).message}\nRun "optuna-storage ${cmd.name} --help" for usage.\n`,
      );
      return EXIT_BAD_INPUT;
    }
    io.stderr(`optuna-storage ${cmd.name}: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

/**
 * Writes to a process stream. When the stream's buffer is full, returns a promise that settles
 * on 'drain', so a long output (a dump) waits for its reader instead of piling up in memory.
 * A reader that went away (`dump | head`) ends the process quietly, as other Unix tools do.
 */
function writer(stream: NodeJS.WriteStream): (text: string) => void | Promise<void> {
  let failed: Error | undefined;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    failed = e;
  });
  return (text) => {
    if (failed) return Promise.reject(failed);
    if (stream.write(text)) return;
    return new Promise<void>((resolve, reject) => {
      const settle = (e?: Error) => {
        stream.off('drain', settle);
        stream.off('error', settle);
        if (e) reject(e);
        else resolve();
      };
      stream.once('drain', settle);
      stream.once('error', settle);
    });
  };
}

if (require.main === module) {
  const controller = new AbortController();
  // A signal asks the verb to stop (watch then exits 0, reads clean up); should it not be done
  // within a few seconds, or a second signal come, the process exits anyway with 128+signal,
  // as it would without a handler: SIGINT and SIGTERM always end it.
  const stop = (sig: NodeJS.Signals) => {
    const status = sig === 'SIGINT' ? 130 : 143;
    if (controller.signal.aborted) process.exit(status);
    controller.abort(new Error('interrupted'));
    setTimeout(() => process.exit(status), 3000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  main(process.argv.slice(2), {
    stdout: writer(process.stdout),
    stderr: writer(process.stderr),
    signal: controller.signal,
    env: process.env,
  }).then(
    (status) => {
      // Let stdout drain (large dumps into a pipe) before exiting with the status.
      process.stdout.write('', () => process.exit(status));
    },
    (e) => {
      process.stderr.write(`optuna-storage: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
