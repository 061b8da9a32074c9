#!/usr/bin/env node
// Loads one better-sqlite3 binding in the node running this script and uses it: an
// in-memory round trip, and optionally a read-only look at a real Optuna SQLite file.
// Plain JS so that any node (20, 22, 24 from scripts/native/node-runtime.sh) can run it.
//
//   <node> scripts/native/smoke.js --binding native/abi-137/better_sqlite3.node [--db optuna.db]
//          [--lib node_modules/better-sqlite3] [--quick]   (--quick: no 1 s allocation churn)
// Prints one JSON line; exits 1 on any failure.
'use strict';
const path = require('path');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

/**
 * Garbage collection the way a busy process gets it: allocation churn across event-loop
 * turns, so that V8 also finishes collections from its own tasks, outside any JS context
 * (where native destructors then run), plus a few explicit full GCs.
 */
async function collectGarbage(ms = 1000) {
  require('v8').setFlagsFromString('--expose-gc');
  const gc = require('vm').runInNewContext('gc');
  const t0 = Date.now();
  let keep = [];
  while (Date.now() - t0 < ms) {
    for (let j = 0; j < 2000; j++) keep.push('x'.repeat(100) + j);
    if (keep.length > 200000) keep = [];
    await new Promise((r) => setImmediate(r));
  }
  keep = [];
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}

const binding = path.resolve(arg('--binding', ''));
const lib = path.resolve(arg('--lib', path.join(__dirname, '..', '..', 'node_modules', 'better-sqlite3')));
const dbFile = arg('--db');
const out = { node: process.version, abi: process.versions.modules, binding };
(async () => {
  const Database = require(lib);
  const mem = new Database(':memory:', { nativeBinding: binding });
  out.sqlite = mem.prepare('SELECT sqlite_version()').pluck().get();
  mem.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL, s TEXT)');
  const ins = mem.prepare('INSERT INTO t (v, s) VALUES (?, ?)');
  mem.transaction((n) => {
    for (let i = 0; i < n; i++) ins.run(i / 4, `row ${i}`);
  })(100);
  const [count, sum] = mem.prepare('SELECT count(*), sum(v) FROM t').raw(true).get();
  if (count !== 100 || sum !== 1237.5) throw new Error(`round trip gave count ${count}, sum ${sum}`);
  // Statements left to the garbage collector: their destructors run from V8's weak
  // callbacks. A binding built against Node >= 24.19 headers (ObjectWrap then removes an
  // environment cleanup hook in its destructor) aborts there when V8 collects from a task:
  // "Assertion failed: (env) != nullptr" in node::RemoveEnvironmentCleanupHook.
  for (let i = 0; i < 2000; i++) mem.prepare(`SELECT ${i} + v FROM t LIMIT 1`).get();
  await collectGarbage(process.argv.includes('--quick') ? 0 : 1000);
  mem.close();
  if (dbFile) {
    const db = new Database(path.resolve(dbFile), { readonly: true, fileMustExist: true, nativeBinding: binding });
    out.alembic = db.prepare('SELECT version_num FROM alembic_version').pluck().get();
    out.studies = db.prepare('SELECT count(*) FROM studies').pluck().get();
    out.trials = db.prepare('SELECT count(*) FROM trials').pluck().get();
    out.params = db.prepare('SELECT count(*) FROM trial_params').pluck().get();
    db.close();
    if (!(out.studies > 0 && out.trials > 0)) throw new Error(`${dbFile} holds no studies or trials`);
  }
  await collectGarbage(process.argv.includes('--quick') ? 0 : 300);
  out.ok = true;
  console.log(JSON.stringify(out));
})().catch((e) => {
  out.ok = false;
  out.error = String(e && e.message ? e.message : e);
  console.log(JSON.stringify(out));
  process.exit(1);
});
