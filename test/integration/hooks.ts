// Root hooks for the integration suites: any unhandled rejection or uncaught exception fails
// the test that was running, instead of passing unnoticed.
const problems: string[] = [];
process.on('unhandledRejection', (reason) =>
  problems.push(`unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}`),
);
process.on('uncaughtException', (err) =>
  problems.push(`uncaught exception: ${err.stack ?? String(err)}`),
);

export const mochaHooks = {
  afterEach(): void {
    if (problems.length > 0) {
      const msg = problems.splice(0).join('\n');
      throw new Error(msg);
    }
  },
};
