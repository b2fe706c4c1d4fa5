// `intent-gate upgrade start --at`: a time that is not RFC 3339 is bad usage (exit 2, naming the flag) before any
// request is sent; a good one reaches the admin API as `at` (here: a gateway that schedules it).
import t from 'tap'
import { gatewayToml, runCli, startGateway, startService, TEST_TOKEN } from '../helpers/gateway.js'

t.test('--at: bad usage names the flag; a valid time schedules the upgrade', async (t) => {
  const bad = await runCli(['upgrade', 'start', '--target-version', '2.0', '--at', 'tomorrow at 3', '--admin', 'http://127.0.0.1:1'], { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN })
  t.equal(bad.code, 2, bad.stderr)
  t.match(bad.stderr, /--at must be an RFC 3339 time/)

  const [blue, green] = await Promise.all([startService(t, { versions: '1.0' }), startService(t, { versions: '2.0' })])
  const gw = await startGateway(t, { config: gatewayToml({ blue: blue.url, green: green.url, extra: '[upgrade]\nmin_upgrade_interval_secs = 0\n' }) })
  const at = new Date(Date.now() + 3_600_000).toISOString()
  const ok = await runCli(['upgrade', 'start', '--target-version', '2.0', '--swap-to', 'green', '--at', at, '--admin', gw.adminUrl, '--json'], { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN })
  t.equal(ok.code, 0, ok.stderr)
  t.equal((JSON.parse(ok.stdout) as { state: string }).state, 'scheduled')
  const status = await gw.admin<{ state: string, scheduled_at: string }>('GET', '/admin/upgrade/status')
  t.equal(status.body.state, 'scheduled')
  t.equal(status.body.scheduled_at, at)
  const abort = await runCli(['upgrade', 'abort', '--admin', gw.adminUrl], { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN })
  t.equal(abort.code, 0, abort.stderr)
})
