// Bundles the extension and the CLI. Native and optional modules stay external:
// better-sqlite3 is loaded at run time from node_modules (or the ABI-matched copy
// shipped in the VSIX), and `vscode` is provided by the extension host.
const fs = require('fs');
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external: ['vscode', 'better-sqlite3'],
  logLevel: 'info',
};

async function main() {
  const targets = [
    { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' },
    // PED-ANOVA importance for the study page, in a worker thread of the extension host.
    {
      ...common,
      entryPoints: ['src/core/studyPage/importanceWorker.ts'],
      outfile: 'dist/importanceWorker.js',
    },
    // The SQLite fallback file is read in a worker thread of the extension host.
    {
      ...common,
      entryPoints: ['src/core/storage/sqliteWorker.ts'],
      outfile: 'dist/sqliteWorker.js',
    },
    {
      ...common,
      entryPoints: ['src/cli.ts'],
      outfile: 'dist/cli.js',
      banner: { js: '#!/usr/bin/env node' },
    },
  ];
  // The study page's webview: a browser bundle (ECharts tree-shaken to the charts it uses) and
  // its stylesheet, served from dist/webview only.
  targets.push({
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: !production,
    minify: production,
    logLevel: 'info',
    entryPoints: {
      studyPage: 'src/webview/studyPage/main.ts',
      studyPageStyle: 'src/webview/studyPage/page.css',
    },
    outdir: 'dist/webview',
  });
  if (watch) {
    for (const t of targets) await (await esbuild.context(t)).watch();
    return;
  }
  await Promise.all(targets.map((t) => esbuild.build(t)));
  // The CLI is the package's bin: npx links it from its cache and, when that link already
  // exists (same checkout path as an earlier run), runs the file as is — so it must be
  // executable straight out of a clean build.
  fs.chmodSync('dist/cli.js', 0o755);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
