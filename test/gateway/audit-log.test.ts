// The audit log through every door (docs/specification.md section 5, GET /admin/audit), with real processes: the CLI (token
// from the variable --config's admin.token_env names, URL from INTENT_GATE_ADMIN_URL), the admin API, the status
// page's calls, and keys changed by hand with redis-cli. Also `upgrade start --force` past
// min_upgrade_interval_secs, and `upgrade status --watch` piped (plain lines, no template left in them).
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { GATEWAY_BIN, request, runCli, spawnNode, TEST_TOKEN } from '../helpers/gateway.js'
import { startHoldGateway, startHoldWorld, statusOf, untilState } from '../coordinator/helpers/hold.js'
import type { AuditEntry } from '../../src/audit/audit-log.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const FINAL = ['completed', 'rolled_back', 'failed']

t.test('every door leaves one entry, newest first, with who, where from, what and why', async (t) => {
  const w = await startHoldWorld(t, { blueSettleMs: 600_000, greenSettleMs: 100 })
  const gw = await startHoldGateway(t, w, {
    env: { INTENT_GATE_ADMIN_TOKEN_ENV: 'OPS_TOKEN', OPS_TOKEN: TEST_TOKEN, INTENT_GATE_UPGRADE_MIN_UPGRADE_INTERVAL_SECS: '3600' }
  })
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-audit-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // The operator's copy of the configuration: the CLI reads which variable holds the token from it.
  const cliConfig = path.join(dir, 'intent-gate.toml')
  writeFileSync(cliConfig, `[admin]\ntoken_env = "OPS_TOKEN"\n[chain]\nenabled = false\n[upstreams.blue]\nurl = "${w.blue.url}"\n`)
  const cliEnv = { INTENT_GATE_ADMIN_URL: gw.adminUrl, OPS_TOKEN: TEST_TOKEN, INTENT_GATE_ADMIN_TOKEN: undefined }
  const cli = async (...args: string[]): ReturnType<typeof runCli> => await runCli([...args, '--config', cliConfig], cliEnv)
  const audit = async (): Promise<AuditEntry[]> => (await gw.admin<{ entries: AuditEntry[] }>('GET', '/admin/audit')).body.entries
  const untilEntries = async (n: number): Promise<AuditEntry[]> => {
    // The Redis door is noticed within redis.poll_interval_ms (50 ms here); 10 s is for a loaded machine.
    const deadline = Date.now() + 10_000
    for (;;) {
      const entries = await audit()
      if (entries.length >= n || Date.now() > deadline) return entries
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  t.test('the CLI without the token variable it was told of is a usage error naming it', async (t) => {
    const r = await runCli(['drain', 'status', '--config', cliConfig], { ...cliEnv, OPS_TOKEN: undefined })
    t.equal(r.code, 2)
    t.match(r.stderr, /OPS_TOKEN is not set/)
  })

  // 1. The CLI: an upgrade (watched through a pipe, its drain held by an intent until the watch has shown it),
  // then one refused within the interval, then forced.
  const held = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })
  t.equal(held.status, 202)
  const started = await cli('upgrade', 'start', '--target-version', '2.0', '--swap-to', 'green', '--reason', 'v2 rollout')
  t.equal(started.code, 0, started.stderr)
  const watch = spawnNode([GATEWAY_BIN, 'upgrade', 'status', '--watch', '--interval-ms', '100', '--config', cliConfig], cliEnv)
  await new Promise<void>((resolve) => {
    const seen = (): void => { if (/ draining /.test(watch.stdout())) { watch.child.stdout?.off('data', seen); resolve() } }
    watch.child.stdout?.on('data', seen)
  })
  t.equal((await gw.admin('POST', `/admin/inflight/${held.body.id as string}/complete`, { status: 'settled' })).status, 200)
  const watched = { ...await watch.exited, stdout: watch.stdout(), stderr: watch.stderr() }
  t.equal(watched.code, 0, watched.stderr)
  t.notMatch(watched.stdout, /\{label\}|\{bar\}|\{detail\}/, 'no template left when piped')
  t.notOk(watched.stdout.includes('\u001b['), 'no terminal escapes')
  t.match(watched.stdout, /^\d{4}-\d\d-\d\dT\S+Z phase 2\/6 draining \(\d+%\); 1 inflight, 0 IBC packets pending$/m, 'timestamped plain lines')
  t.match(watched.stdout, /phase completed \(100%\)/)
  t.match(watched.stdout, /^state\s+completed$/m, 'then the final status')
  const lines = watched.stdout.split('\n').filter((l) => / phase /.test(l))
  t.equal(new Set(lines.map((l) => l.replace(/^\S+ /, ''))).size, lines.length, 'a line only when something changed')

  const refused = await cli('upgrade', 'start', '--target-version', '1.0', '--swap-to', 'blue')
  t.equal(refused.code, 1)
  t.match(refused.stderr, /409.*min_upgrade_interval_secs=3600.*--force/)
  const forced = await cli('upgrade', 'start', '--target-version', '1.0', '--swap-to', 'blue', '--force', '--reason', 'bad release: back to 1.0')
  t.equal(forced.code, 0, forced.stderr)
  t.equal((await untilState(statusOf(gw), FINAL)).state, 'completed', 'the forced upgrade back ran')

  // 2. The admin API itself, 3. a key deleted by hand, 4. the status page's call, 5. a key set by hand.
  t.equal((await gw.admin('POST', '/admin/drain/start', { deadline_secs: 60, reason: 'api drain' })).status, 200)
  t.equal((await untilEntries(3)).length, 3)
  await w.redis.cli('DEL', 'intent-gate:{hold}:drain')
  t.equal((await untilEntries(4))[0]?.via, 'redis', 'the DEL by hand is noticed')
  const page = await request(`${gw.adminUrl}/admin/upstreams/active`, {
    body: { color: 'green', force: true, reason: 'from the page' },
    headers: { authorization: `Bearer ${TEST_TOKEN}`, 'x-intent-gate-via': 'status' }
  })
  t.equal(page.status, 200)
  await w.redis.cli('SET', 'intent-gate:{hold}:active', 'blue')
  const entries = await untilEntries(6)

  const token = entries.find((e) => e.via !== 'redis')?.actor ?? ''
  t.match(token, /^token:[0-9a-f]{8}$/, 'the token\'s id, never the token')
  t.notMatch(JSON.stringify(entries), new RegExp(TEST_TOKEN))
  t.same(entries.map((e) => [e.via, e.action, e.actor, e.reason ?? null]), [
    ['redis', 'upstreams.swap', 'redis', null],
    ['status', 'upstreams.swap', token, 'from the page'],
    ['redis', 'drain.stop', 'redis', null],
    ['admin', 'drain.start', token, 'api drain'],
    ['cli', 'upgrade.start', token, 'bad release: back to 1.0'],
    ['cli', 'upgrade.start', token, 'v2 rollout']
  ], 'newest first; the refused start and the coordinator\'s own swaps are not operator changes')
  t.match(entries[0]?.detail, { from: 'green', to: 'blue' })
  t.match(entries[1]?.detail, { from: 'blue', to: 'green', forced: true })
  t.match(entries[3]?.detail, { deadline_secs: 60 })
  t.match(entries[4]?.detail, { target_version: '1.0', force: true, swap: { from: 'green', to: 'blue' } })
  t.match(entries[5]?.detail, { target_version: '2.0', force: false })
  t.equal(entries[0]?.origin, null)
  t.match(entries[1]?.origin, /127\.0\.0\.1/)
  for (const e of entries) t.ok(Date.parse(e.at) > Date.now() - 120_000, `${e.action} has its time`)

  // The same trail as log lines (the gateway logs at warn here; the audit lines are written anyway).
  const logged = gw.stderr().split('\n').filter((l) => l.includes('"audit"')).map((l) => JSON.parse(l) as { msg: string, audit: AuditEntry })
  t.same(logged.map((l) => [l.msg, l.audit.via]), entries.map((e) => [`audit: ${e.action}`, e.via]).reverse())
})
