// The SQLite migration runner: applies pending files in order with checksums, refuses edited files and
// requires_drain migrations while not drained, rolls back with `down`s and refuses one without.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { defaultMigrationsDir, parseMigration, readMigrations } from '../../src/coordinator/db/migration-files.js'
import { MigrationRunner } from '../../src/coordinator/db/migration-runner.js'
import { openDatabase } from '../../src/coordinator/db/open.js'
import type { Teardown } from '../helpers/redis.js'

function tempDir (t: Teardown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-migrations-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function repoMigrationsCopy (t: Teardown): string {
  const dir = tempDir(t)
  for (const f of readdirSync(defaultMigrationsDir())) copyFileSync(path.join(defaultMigrationsDir(), f), path.join(dir, f))
  return dir
}

const tables = (db: ReturnType<typeof openDatabase>): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name)

t.test('the repository migrations apply in order, create the design tables, and roll back to nothing', async (t) => {
  const dir = tempDir(t)
  const db = openDatabase(path.join(dir, 'nested', 'state.sqlite'))
  t.teardown(() => db.close())
  const runner = new MigrationRunner(db, readMigrations(defaultMigrationsDir()))
  const applied = await runner.migrate({ drain: { mode: 'drained' } })
  t.ok(applied.length >= 2, 'applied every file')
  t.same(applied.map((f) => f.version), [...applied.map((f) => f.version)].sort((a, b) => a - b), 'in order')
  for (const table of ['upgrade_history', 'inflight_checkpoints', 'upgrade_phases', 'upgrade_steps', 'coordinator_state']) {
    t.ok(tables(db).includes(table), `${table} exists`)
  }
  const status = runner.status()
  t.equal(status.pending.length, 0)
  t.ok(status.applied.every((a) => /^[0-9a-f]{64}$/.test(a.checksum) && !a.changed), 'each recorded with its sha256')
  t.same(await runner.migrate({ drain: { mode: 'drained' } }), [], 'nothing pending the second time')

  const reverted = runner.rollback(0)
  t.same(reverted.map((f) => f.version), applied.map((f) => f.version).reverse(), 'newest first')
  t.same(tables(db), ['schema_migrations'], 'every table the migrations made is gone')
  t.equal(runner.current(), 0)
})

t.test('a file changed after it was applied is refused, by name', async (t) => {
  const dir = repoMigrationsCopy(t)
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  await new MigrationRunner(db, readMigrations(dir)).migrate({ drain: { mode: 'drained' } })
  const file = path.join(dir, '001_upgrade_history.sql')
  writeFileSync(file, readFileSync(file, 'utf8') + '\n-- an innocent-looking edit\n')
  const runner = new MigrationRunner(db, readMigrations(dir))
  t.equal(runner.status().applied.find((a) => a.version === 1)?.changed, true, 'status shows it')
  await t.rejects(runner.migrate({ drain: { mode: 'drained' } }), { code: 'IG_ERR_MIGRATION_CHECKSUM', message: /001_upgrade_history\.sql was changed after it was applied/ })
  t.throws(() => runner.rollback(0), { code: 'IG_ERR_MIGRATION_CHECKSUM' })
})

t.test('a requires_drain migration: refused while not drained, stopped at by start-up, applied when drained', async (t) => {
  const dir = tempDir(t)
  writeFileSync(path.join(dir, '001_a.sql'), '-- +up\nCREATE TABLE a (x INTEGER);\n-- +down\nDROP TABLE a;\n')
  writeFileSync(path.join(dir, '002_b.sql'), '-- requires_drain: true\n-- +up\nCREATE TABLE b (x INTEGER);\n-- +down\nDROP TABLE b;\n')
  writeFileSync(path.join(dir, '003_c.sql'), '-- +up\nCREATE TABLE c (x INTEGER);\n')
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const runner = new MigrationRunner(db, readMigrations(dir))

  const notDrained = async (): Promise<{ drained: boolean, why: string }> => ({ drained: false, why: '3 intents inflight' })
  await t.rejects(runner.migrate({ drain: { mode: 'check', probe: notDrained } }), { code: 'IG_ERR_MIGRATION_REQUIRES_DRAIN', message: /002_b\.sql requires a drained system.*3 intents inflight/ })
  t.equal(runner.current(), 1, 'what came before it was applied; nothing after')

  t.same((await runner.migrate({ drain: { mode: 'stop' } })).map((f) => f.file), [], 'start-up stops at it')
  const drained = async (): Promise<{ drained: boolean, why: string }> => ({ drained: true, why: '' })
  t.same((await runner.migrate({ drain: { mode: 'check', probe: drained } })).map((f) => f.file), ['002_b.sql', '003_c.sql'])

  t.throws(() => runner.rollback(1), { code: 'IG_ERR_MIGRATION_IRREVERSIBLE', message: /003_c\.sql has no '-- \+down'/ })
  t.equal(runner.current(), 3, 'nothing was rolled back when one could not be')
  t.same(tables(db), ['a', 'b', 'c', 'schema_migrations'])
})

t.test('a migration whose SQL fails leaves nothing behind', async (t) => {
  const dir = tempDir(t)
  writeFileSync(path.join(dir, '001_bad.sql'), '-- +up\nCREATE TABLE half (x INTEGER);\nTHIS IS NOT SQL;\n')
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const runner = new MigrationRunner(db, readMigrations(dir))
  await t.rejects(runner.migrate({ drain: { mode: 'drained' } }), { code: 'IG_ERR_MIGRATION_FAILED', message: /001_bad\.sql/ })
  t.same(tables(db), ['schema_migrations'], 'the half-made table was rolled back with it')
  t.equal(runner.current(), 0)
})

t.test('bad files are named', async (t) => {
  t.throws(() => parseMigration('1_x.sql', '-- +up\nSELECT 1;'), { code: 'IG_ERR_MIGRATION_FILE', message: /1_x\.sql.*NNN_name/ })
  t.throws(() => parseMigration('001_x.sql', 'SELECT 1;'), { message: /001_x\.sql: no '-- \+up'/ })
  t.throws(() => parseMigration('001_x.sql', '-- requires_drain: maybe\n-- +up\nSELECT 1;'), { message: /requires_drain must be true or false/ })
  const dir = tempDir(t)
  writeFileSync(path.join(dir, '001_a.sql'), '-- +up\nSELECT 1;')
  writeFileSync(path.join(dir, '001_b.sql'), '-- +up\nSELECT 1;')
  t.throws(() => readMigrations(dir), { message: /001_a\.sql and 001_b\.sql share the number 1/ })
})
