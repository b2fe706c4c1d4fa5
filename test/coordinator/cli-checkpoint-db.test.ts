// The checkpoint and db commands as an operator runs them (the built CLI): checkpoint list/show/validate against a
// real gateway, catching a flipped byte; db status/migrate/rollback on the database file alone.
import t from 'tap'
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runCli, TEST_TOKEN } from '../helpers/gateway.js'
import { startCoordinatedGateway, startWorld, statusOf, untilState } from './helpers/e2e.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

t.test('checkpoint list, show and validate; a flipped byte is caught', async (t) => {
  const w = await startWorld(t)
  const gw = await startCoordinatedGateway(t, w)
  const env = { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN }
  const admin = ['--admin', gw.adminUrl]
  await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })
  const done = await untilState(statusOf(gw), [...FINAL_STATES])
  t.equal(done.state, 'completed', done.error ?? '')
  const id = done.checkpoint_id as string

  const list = await runCli(['checkpoint', 'list', ...admin], env)
  t.equal(list.code, 0)
  t.match(list.stdout, new RegExp(`${id}\\s`))
  const show = await runCli(['checkpoint', 'show', id, ...admin], env)
  t.match(show.stdout, /active\s+blue/)
  t.match(show.stdout, /contract\s+code 1, version 1\.0/)
  t.equal((await runCli(['checkpoint', 'validate', id, ...admin], env)).code, 0)

  const dir = path.join(w.dir, 'checkpoints')
  const body = path.join(dir, readdirSync(dir).find((f) => f.startsWith(id) && !f.endsWith('.meta.json')) as string)
  const bytes = readFileSync(body)
  bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] as number) ^ 0x20
  writeFileSync(body, bytes)
  const bad = await runCli(['checkpoint', 'validate', id, ...admin], env)
  t.equal(bad.code, 1, 'a corrupt checkpoint: exit 1')
  t.match(bad.stdout, /CORRUPT:\n\s+checkpoint .* SHA-256 mismatch/)
  const missing = await runCli(['checkpoint', 'show', 'no-such', ...admin], env)
  t.equal(missing.code, 1)
  t.match(missing.stderr, /404/)
})

t.test('db status, migrate and rollback work on the database file alone', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-db-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const config = path.join(dir, 'c.toml')
  writeFileSync(config, `[coordinator]\ndatabase = "${path.join(dir, 'sub', 'state.sqlite')}"\n[upstreams.blue]\nurl = "http://127.0.0.1:1"\n`)
  const fresh = await runCli(['db', 'status', '--config', config])
  t.equal(fresh.code, 0, fresh.stderr)
  t.match(fresh.stdout, /schema version 0/)
  t.match(fresh.stdout, /001_upgrade_history\.sql\s+pending/)
  // No gateway answers on admin.listen: the requires_drain migration is refused, naming it; the others apply.
  const migrate = await runCli(['db', 'migrate', '--config', config, '--admin', 'http://127.0.0.1:9'])
  t.equal(migrate.code, 1)
  t.match(migrate.stderr, /migration 003_stored_intent_migrations\.sql requires a drained system.*cannot ask the gateway/)
  t.match((await runCli(['db', 'status', '--config', config])).stdout, /schema version 2[\s\S]*003_stored_intent_migrations\.sql\s+pending\s+requires drain/)
  const drained = await runCli(['db', 'migrate', '--config', config, '--assume-drained'])
  t.equal(drained.code, 0, drained.stderr)
  t.match(drained.stdout, /applied 003_stored_intent_migrations\.sql, 004_audit_log\.sql; schema version 4/)
  const json = JSON.parse((await runCli(['db', 'status', '--config', config, '--json'])).stdout) as { current: number, pending: unknown[] }
  t.same([json.current, json.pending], [4, []])
  const back = await runCli(['db', 'rollback', '--to', '1', '--config', config])
  t.equal(back.code, 0, back.stderr)
  t.match(back.stdout, /rolled back 004_audit_log\.sql, 003_stored_intent_migrations\.sql, 002_upgrade_state_machine\.sql; schema version 1/)
  const bad = await runCli(['db', 'rollback', '--to', 'x', '--config', config])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--to must be a migration number/)
})
