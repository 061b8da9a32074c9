import * as vscode from 'vscode';

/** Replaces a vscode.window function for one call sequence; restores on `restore()`. */
export function stub<K extends keyof typeof vscode.window>(
  name: K,
  impl: (...args: never[]) => unknown,
): { restore(): void; calls: unknown[][] } {
  const w = vscode.window as unknown as Record<string, unknown>;
  const original = w[name];
  const calls: unknown[][] = [];
  w[name] = (...args: never[]) => {
    calls.push(args);
    return impl(...args);
  };
  return { calls, restore: () => (w[name] = original) };
}
