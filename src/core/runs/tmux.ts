import { execFile } from 'node:child_process';

/**
 * The tmux commands the run manager needs, always with exact-match targets (`=name`), so that
 * session `optuna-x-1` never acts on `optuna-x-10`. `socket` selects a server (`tmux -L`).
 */
export class Tmux {
  constructor(
    readonly socket: string | undefined,
    private readonly bin = 'tmux',
  ) {}

  private run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = { ...process.env };
    delete env.TMUX;
    return new Promise((resolve) => {
      execFile(
        this.bin,
        [...(this.socket ? ['-L', this.socket] : []), ...args],
        { timeout: 5000, env },
        (err, stdout, stderr) => {
          // execFile's error carries the exit status as a number, or a string such as ENOENT.
          const status = (err as { code?: unknown } | null)?.code;
          const code = !err ? 0 : typeof status === 'number' ? status : -1;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
    });
  }

  /** tmux's version line, or undefined when tmux cannot be run. */
  async version(): Promise<string | undefined> {
    const r = await this.run(['-V']);
    return r.code === 0 ? r.stdout.trim() : undefined;
  }

  async hasSession(name: string): Promise<boolean> {
    return (await this.run(['has-session', '-t', `=${name}`])).code === 0;
  }

  /** Ctrl-C into the session's pane: SIGINT to its foreground process group. */
  async interrupt(name: string): Promise<boolean> {
    return (await this.run(['send-keys', '-t', `=${name}:`, 'C-c'])).code === 0;
  }

  async killSession(name: string): Promise<boolean> {
    return (await this.run(['kill-session', '-t', `=${name}`])).code === 0;
  }

  /** The pane's state: dead with its exit status (remain-on-exit keeps it), or alive. */
  async paneState(
    name: string,
  ): Promise<{ dead: boolean; status: number | undefined } | undefined> {
    const r = await this.run([
      'display-message',
      '-p',
      '-t',
      `=${name}:`,
      '#{pane_dead} #{pane_dead_status}',
    ]);
    if (r.code !== 0) return undefined;
    const [dead, status] = r.stdout.trim().split(' ');
    return {
      dead: dead === '1',
      status: status && /^\d+$/.test(status) ? Number(status) : undefined,
    };
  }

  /** Arguments for a terminal that attaches to the session. */
  attachArgs(name: string): string[] {
    return [...(this.socket ? ['-L', this.socket] : []), 'attach-session', '-t', `=${name}`];
  }
}
