import { backupCommand } from './cli/backup';
import { type CliCommand, type CliIo, EXIT_BAD_INPUT, UsageError } from './cli/command';
import { deployCommand } from './cli/deploy';
import { doctorCommand } from './cli/doctor';
import { dumpCommand } from './cli/dump';
import { exportCommand } from './cli/export';
import { importCommand } from './cli/import';
import { monitorCommand } from './cli/monitor';
import { startCommand } from './cli/start';
import { studiesCommand } from './cli/studies';
import { suiteCommand } from './cli/suite';
import { watchCommand } from './cli/watch';

const COMMANDS: CliCommand[] = [
  dumpCommand,
  studiesCommand,
  suiteCommand,
  watchCommand,
  doctorCommand,
  deployCommand,
  startCommand,
  monitorCommand,
  backupCommand,
  exportCommand,
  importCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: optuna-storage <command> [options]

Reads and manages the storage behind Optuna studies (Redis journal, journal file, SQLite).

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "optuna-storage <command> --help" for a command's options.
`;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(usage());
    return name === undefined ? EXIT_BAD_INPUT : 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.stderr(`optuna-storage: unknown command "${name}"\n\n${usage()}`);
    return EXIT_BAD_INPUT;
  }
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
