// The upgrade commands as an operator runs them (the built CLI against a real gateway): upgrade start, status
// (--json, --watch) and abort, with their exit statuses.
import t from 'tap'
import { runCli, TEST_TOKEN } from '../helpers/gateway.js'
import { startCoordinatedGateway, startWorld, statusOf, steadyLoad, untilState } from './helpers/e2e.js'

t.test('upgrade start, status, abort and the checkpoints, through the CLI', async (t) => {
  const w = await startWorld(t, { settleMs: 120_000 })
  const gw = await startCoordinatedGateway(t, w)
  const env = { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN }
  const admin = ['--admin', gw.adminUrl]

  const usage = await runCli(['upgrade', 'start', ...admin, '--target-version', '2.0', '--swap-to', 'purple'], env)
  t.equal(usage.code, 2, 'a bad flag is a usage error')
  t.match(usage.stderr, /--swap-to must be blue or green/)

  // Intents that take 2 minutes to settle hold the drain.
  const load = steadyLoad(() => [gw.proxyUrl], 200)
  await new Promise((resolve) => setTimeout(resolve, 600))
  const start = await runCli(['upgrade', 'start', ...admin, '--target-version', '2.0', '--swap-to', 'green', '--drain-timeout-secs', '300'], env)
  t.equal(start.code, 0, start.stderr)
  t.match(start.stdout, /upgrade upg-\S+ started/)
  await untilState(statusOf(gw), ['draining'])
  const again = await runCli(['upgrade', 'start', ...admin, '--target-version', '2.0', '--swap-to', 'green'], env)
  t.equal(again.code, 1, 'refused while one runs: exit 1')
  t.match(again.stderr, /409/)

  const status = await runCli(['upgrade', 'status', ...admin, '--json'], env)
  t.equal(status.code, 0)
  const body = JSON.parse(status.stdout) as { state: string, inflight_count: number, phases: Array<{ phase: string }> }
  t.equal(body.state, 'draining')
  t.ok(body.inflight_count > 0)

  const watch = runCli(['upgrade', 'status', ...admin, '--watch', '--interval-ms', '100'], env)
  const abort = await runCli(['upgrade', 'abort', ...admin], env)
  t.equal(abort.code, 0, abort.stderr)
  t.match(abort.stdout, /abort of upgrade upg-\S+ requested/)
  const watched = await watch
  t.equal(watched.code, 1, '--watch exits 1 when the upgrade ends rolled back')
  t.match(watched.stderr, /ended rolled_back: aborted by an operator during draining/)
  t.match(watched.stdout, /state\s+rolled_back/)
  await load.stop()

  const none = await runCli(['upgrade', 'abort', ...admin], env)
  t.equal(none.code, 1)
  t.match(none.stderr, /no upgrade is running/)
})
