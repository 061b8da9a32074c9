// Compiles the extension-host test suite to plain CommonJS for the extension host:
//   test/extension/suite/index.ts        -> .test-work/extension-tests/suite/index.js
//   test/extension/suite/**/*.test.ts    -> .test-work/extension-tests/suite/**/*.test.js
// `vscode` is provided by the extension host and `mocha` stays external so that it is
// resolved at run time from the repository's node_modules (the output folder lives inside
// the repository, so Node's upward node_modules lookup finds it). better-sqlite3 is
// native and loaded at run time, as in esbuild.js. The output folder is wiped first so
// that deleted tests do not linger.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const suiteDir = path.join(__dirname, 'suite');
const outRoot = path.join(root, '.test-work', 'extension-tests');
const outDir = path.join(outRoot, 'suite');

function findTests(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findTests(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

async function main() {
  const tests = findTests(suiteDir).sort();
  fs.rmSync(outRoot, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [path.join(suiteDir, 'index.ts'), ...tests],
    outbase: suiteDir,
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    external: ['vscode', 'mocha', 'better-sqlite3'],
    logLevel: 'warning',
  });
  console.log(
    `[extension-tests] built index + ${tests.length} test file(s) into ${path.relative(root, outDir)}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
