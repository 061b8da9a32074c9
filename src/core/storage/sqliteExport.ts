import * as fs from 'node:fs';
import * as path from 'node:path';
import { distributionJson, internalRepr } from '../optuna/distributions';
import type { Study } from '../optuna/model';
import type { JsonValue } from '../optuna/pythonJsonParse';
import { pythonDumps } from '../optuna/pythonJsonDumps';
import { openSqlite } from './sqliteDriver';

/**
 * The schema of Optuna 3.1's RDBStorage in SQLite, statement for statement as SQLAlchemy
 * creates it (copied from the `sqlite_master` of a database Optuna 3.1 created), at alembic
 * head v3.0.0.d. Optuna 3.0–3.1 open such a file; newer Optuna upgrades it with `optuna
 * storage upgrade`.
 */
const SCHEMA = [
  'CREATE TABLE studies (\n\tstudy_id INTEGER NOT NULL, \n\tstudy_name VARCHAR(512) NOT NULL, \n\tPRIMARY KEY (study_id)\n)',
  'CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name)',
  'CREATE TABLE version_info (\n\tversion_info_id INTEGER NOT NULL, \n\tschema_version INTEGER, \n\tlibrary_version VARCHAR(256), \n\tPRIMARY KEY (version_info_id), \n\tCHECK (version_info_id=1)\n)',
  'CREATE TABLE study_directions (\n\tstudy_direction_id INTEGER NOT NULL, \n\tdirection VARCHAR(8) NOT NULL, \n\tstudy_id INTEGER NOT NULL, \n\tobjective INTEGER NOT NULL, \n\tPRIMARY KEY (study_direction_id), \n\tUNIQUE (study_id, objective), \n\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n)',
  'CREATE TABLE study_user_attributes (\n\tstudy_user_attribute_id INTEGER NOT NULL, \n\tstudy_id INTEGER, \n\t"key" VARCHAR(512), \n\tvalue_json TEXT, \n\tPRIMARY KEY (study_user_attribute_id), \n\tUNIQUE (study_id, "key"), \n\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n)',
  'CREATE TABLE study_system_attributes (\n\tstudy_system_attribute_id INTEGER NOT NULL, \n\tstudy_id INTEGER, \n\t"key" VARCHAR(512), \n\tvalue_json TEXT, \n\tPRIMARY KEY (study_system_attribute_id), \n\tUNIQUE (study_id, "key"), \n\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n)',
  'CREATE TABLE trials (\n\ttrial_id INTEGER NOT NULL, \n\tnumber INTEGER, \n\tstudy_id INTEGER, \n\tstate VARCHAR(8) NOT NULL, \n\tdatetime_start DATETIME, \n\tdatetime_complete DATETIME, \n\tPRIMARY KEY (trial_id), \n\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n)',
  'CREATE TABLE trial_user_attributes (\n\ttrial_user_attribute_id INTEGER NOT NULL, \n\ttrial_id INTEGER, \n\t"key" VARCHAR(512), \n\tvalue_json TEXT, \n\tPRIMARY KEY (trial_user_attribute_id), \n\tUNIQUE (trial_id, "key"), \n\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n)',
  'CREATE TABLE trial_system_attributes (\n\ttrial_system_attribute_id INTEGER NOT NULL, \n\ttrial_id INTEGER, \n\t"key" VARCHAR(512), \n\tvalue_json TEXT, \n\tPRIMARY KEY (trial_system_attribute_id), \n\tUNIQUE (trial_id, "key"), \n\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n)',
  'CREATE TABLE trial_params (\n\tparam_id INTEGER NOT NULL, \n\ttrial_id INTEGER, \n\tparam_name VARCHAR(512), \n\tparam_value FLOAT, \n\tdistribution_json TEXT, \n\tPRIMARY KEY (param_id), \n\tUNIQUE (trial_id, param_name), \n\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n)',
  'CREATE TABLE trial_values (\n\ttrial_value_id INTEGER NOT NULL, \n\ttrial_id INTEGER NOT NULL, \n\tobjective INTEGER NOT NULL, \n\tvalue FLOAT, \n\tvalue_type VARCHAR(7) NOT NULL, \n\tPRIMARY KEY (trial_value_id), \n\tUNIQUE (trial_id, objective), \n\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n)',
  'CREATE TABLE trial_intermediate_values (\n\ttrial_intermediate_value_id INTEGER NOT NULL, \n\ttrial_id INTEGER NOT NULL, \n\tstep INTEGER NOT NULL, \n\tintermediate_value FLOAT, \n\tintermediate_value_type VARCHAR(7) NOT NULL, \n\tPRIMARY KEY (trial_intermediate_value_id), \n\tUNIQUE (trial_id, step), \n\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n)',
  'CREATE TABLE trial_heartbeats (\n\ttrial_heartbeat_id INTEGER NOT NULL, \n\ttrial_id INTEGER NOT NULL, \n\theartbeat DATETIME NOT NULL, \n\tPRIMARY KEY (trial_heartbeat_id), \n\tUNIQUE (trial_id), \n\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n)',
  'CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) NOT NULL, \n\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)',
];
export const OPTUNA31_REVISION = 'v3.0.0.d';
const SCHEMA_VERSION = 12;
const LIBRARY_VERSION = '3.1.0';

/** SQLAlchemy's SQLite DATETIME text; an offset is dropped, as SQLAlchemy drops it. */
function sqliteDatetime(iso: string | null): string | null {
  return iso === null
    ? null
    : iso.replace('T', ' ').replace(/(Z|[+-]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$/, '');
}

/** `value_to_stored_repr`: infinities as a type with a NULL value; Optuna cannot store NaN. */
function storedValue(v: JsonValue, what: string): [number | null, string] {
  const x = typeof v === 'bigint' ? Number(v) : (v as number);
  if (x === Infinity) return [null, 'INF_POS'];
  if (x === -Infinity) return [null, 'INF_NEG'];
  if (Number.isNaN(x)) throw new Error(`${what} is NaN, which Optuna's RDB storage cannot hold`);
  return [x, 'FINITE'];
}

function storedIntermediate(v: JsonValue): [number | null, string] {
  const x = typeof v === 'bigint' ? Number(v) : (v as number);
  return Number.isNaN(x) ? [null, 'NAN'] : storedValue(x, 'an intermediate value');
}

/**
 * Writes one study as a new Optuna 3.1 SQLite database: the schema, the version rows Optuna
 * checks (alembic v3.0.0.d, schema 12), and the study's rows as RDBStorage stores them. Written
 * to a temporary file in one transaction, then renamed: the target never exists half-written.
 */
export function writeStudySqlite(study: Study, target: string): void {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}`);
  fs.rmSync(tmp, { force: true });
  const db = openSqlite(tmp);
  try {
    db.transaction(() => {
      for (const sql of SCHEMA) db.exec(sql);
      db.prepare(
        'INSERT INTO version_info (version_info_id, schema_version, library_version) VALUES (1, ?, ?)',
      ).run(SCHEMA_VERSION, LIBRARY_VERSION);
      db.prepare('INSERT INTO alembic_version (version_num) VALUES (?)').run(OPTUNA31_REVISION);
      db.prepare('INSERT INTO studies (study_id, study_name) VALUES (1, ?)').run(study.name);
      const dir = db.prepare(
        'INSERT INTO study_directions (study_direction_id, direction, study_id, objective) VALUES (?, ?, 1, ?)',
      );
      study.directions.forEach((d, i) => dir.run(i + 1, d, i));
      for (const [table, attrs] of [
        ['study_system_attributes', study.systemAttrs],
        ['study_user_attributes', study.userAttrs],
      ] as const) {
        const ins = db.prepare(
          `INSERT INTO ${table} (${table.replace(/s$/, '')}_id, study_id, key, value_json) VALUES (?, 1, ?, ?)`,
        );
        Object.entries(attrs).forEach(([k, v], i) => ins.run(i + 1, k, pythonDumps(v)));
      }
      const trial = db.prepare(
        'INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete) VALUES (?, ?, 1, ?, ?, ?)',
      );
      const param = db.prepare(
        'INSERT INTO trial_params (param_id, trial_id, param_name, param_value, distribution_json) VALUES (?, ?, ?, ?, ?)',
      );
      const value = db.prepare(
        'INSERT INTO trial_values (trial_value_id, trial_id, objective, value, value_type) VALUES (?, ?, ?, ?, ?)',
      );
      const inter = db.prepare(
        'INSERT INTO trial_intermediate_values (trial_intermediate_value_id, trial_id, step, intermediate_value, intermediate_value_type) VALUES (?, ?, ?, ?, ?)',
      );
      const userAttr = db.prepare(
        'INSERT INTO trial_user_attributes (trial_user_attribute_id, trial_id, key, value_json) VALUES (?, ?, ?, ?)',
      );
      const systemAttr = db.prepare(
        'INSERT INTO trial_system_attributes (trial_system_attribute_id, trial_id, key, value_json) VALUES (?, ?, ?, ?)',
      );
      const ids = { param: 0, value: 0, inter: 0, user: 0, system: 0 };
      study.trials.forEach((t, i) => {
        const tid = i + 1;
        trial.run(
          tid,
          t.number,
          t.state,
          sqliteDatetime(t.datetimeStart),
          sqliteDatetime(t.datetimeComplete),
        );
        for (const [k, d] of Object.entries(t.distributions)) {
          const internal = internalRepr(d, t.params[k]);
          param.run(
            ++ids.param,
            tid,
            k,
            typeof internal === 'bigint' ? Number(internal) : internal,
            distributionJson(d),
          );
        }
        (t.values ?? []).forEach((v, objective) =>
          value.run(++ids.value, tid, objective, ...storedValue(v, `trial #${t.number}'s value`)),
        );
        for (const [step, v] of Object.entries(t.intermediateValues))
          inter.run(++ids.inter, tid, Number(step), ...storedIntermediate(v));
        for (const [k, v] of Object.entries(t.userAttrs))
          userAttr.run(++ids.user, tid, k, pythonDumps(v));
        for (const [k, v] of Object.entries(t.systemAttrs))
          systemAttr.run(++ids.system, tid, k, pythonDumps(v));
      });
    })();
    db.close();
    fs.renameSync(tmp, target);
  } catch (e) {
    try {
      db.close();
    } catch {
      // already closed
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
