import * as vscode from 'vscode';

/** What a step returns when the user pressed the Back button. */
export const BACK = Symbol('back');
export type StepResult<T> = T | typeof BACK | undefined;

export interface StepPosition {
  title: string;
  step: number;
  totalSteps: number;
}

/**
 * One QuickPick step of a form: VS Code shows "title (step/total)" and, from the second step
 * on, a Back button. Resolves with the accepted item, BACK, or undefined when dismissed.
 */
export function pickStep<T extends vscode.QuickPickItem>(
  pos: StepPosition,
  opts: { items: T[]; active?: T; placeholder: string },
): Promise<StepResult<T>> {
  const qp = vscode.window.createQuickPick<T>();
  qp.title = pos.title;
  qp.step = pos.step;
  qp.totalSteps = pos.totalSteps;
  qp.placeholder = opts.placeholder;
  qp.items = opts.items;
  qp.matchOnDescription = true;
  qp.ignoreFocusOut = true;
  qp.buttons = pos.step > 1 ? [vscode.QuickInputButtons.Back] : [];
  if (opts.active) qp.activeItems = [opts.active];
  return new Promise<StepResult<T>>((resolve) => {
    let done = false;
    const finish = (r: StepResult<T>) => {
      if (done) return;
      done = true;
      resolve(r);
      for (const d of subs) d.dispose();
      qp.dispose();
    };
    const subs = [
      qp.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && finish(BACK)),
      qp.onDidAccept(() => {
        const item = qp.selectedItems[0] ?? qp.activeItems[0];
        if (item && item.kind !== vscode.QuickPickItemKind.Separator) finish(item);
      }),
      qp.onDidHide(() => finish(undefined)),
    ];
    qp.show();
  });
}

/**
 * One InputBox step: validated as the user types and again on Enter; an invalid value keeps
 * the step open with the message.
 */
export function inputStep(
  pos: StepPosition,
  opts: {
    value: string;
    prompt: string;
    placeholder?: string;
    validate: (v: string) => string | undefined;
  },
): Promise<StepResult<string>> {
  const ib = vscode.window.createInputBox();
  ib.title = pos.title;
  ib.step = pos.step;
  ib.totalSteps = pos.totalSteps;
  ib.value = opts.value;
  ib.prompt = opts.prompt;
  ib.placeholder = opts.placeholder;
  ib.ignoreFocusOut = true;
  ib.buttons = pos.step > 1 ? [vscode.QuickInputButtons.Back] : [];
  ib.validationMessage = opts.value ? opts.validate(opts.value) : undefined;
  return new Promise<StepResult<string>>((resolve) => {
    let done = false;
    const finish = (r: StepResult<string>) => {
      if (done) return;
      done = true;
      resolve(r);
      for (const d of subs) d.dispose();
      ib.dispose();
    };
    const subs = [
      ib.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && finish(BACK)),
      ib.onDidChangeValue((v) => (ib.validationMessage = opts.validate(v))),
      ib.onDidAccept(() => {
        const msg = opts.validate(ib.value);
        ib.validationMessage = msg;
        if (!msg) finish(ib.value);
      }),
      ib.onDidHide(() => finish(undefined)),
    ];
    ib.show();
  });
}
