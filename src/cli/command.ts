/** One verb of the `optuna-storage` CLI. Each verb lives in its own module under src/cli/. */
export interface CliIo {
  /** A promise when the text could not be handed over at once (a full pipe): await it before writing more. */
  stdout: (text: string) => void | Promise<void>;
  stderr: (text: string) => void;
  /** Aborted on SIGINT/SIGTERM; long-running verbs (watch, suite) stop when it fires. */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** Full `--help` text. */
  help: string;
  /** Returns the process exit status (see docs: 0 ok, 2 bad input, 3 unreachable). */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Thrown for bad arguments or unreadable/foreign input: exit status 2, message on stderr. */
export class UsageError extends Error {}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_UNREACHABLE = 3;
