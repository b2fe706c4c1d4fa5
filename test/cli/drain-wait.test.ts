// `intent-gate drain start --wait`, what a Kubernetes preStop hook runs: it returns 0 only once the gateway is
// drained, and 1 when the drain's deadline passes with work still inflight.
import t from 'tap'
import { GATEWAY_BIN, gatewayToml, request, spawnNode, startGateway, startService, TEST_TOKEN, waitFor } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

t.test('drain start --wait', async (t) => {
  // The service never settles on its own: the test ends each intent through the admin API when it chooses.
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const gw = await startGateway(t, { config: gatewayToml({ blue: blue.url }) })
  const env = { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN }
  const submit = async (): Promise<string> => {
    const r = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })
    t.equal(r.status, 202)
    return r.body.id as string
  }
  const drainMode = async (): Promise<string> => (await gw.admin<{ mode: string }>('GET', '/admin/drain/status')).body.mode

  t.test('exits 0 once the last inflight intent ends, not before', async (t) => {
    const id = await submit()
    const cli = spawnNode([GATEWAY_BIN, 'drain', 'start', '--wait', '--interval-ms', '50', '--admin', gw.adminUrl], env)
    await waitFor('the drain switch set by the CLI', async () => (await drainMode()) === 'draining' ? true : undefined)
    // The switch is set and one intent is inflight: the CLI must still be waiting.
    t.equal(cli.child.exitCode, null, 'still waiting while an intent is inflight')
    const done = await gw.admin('POST', `/admin/inflight/${id}/complete`, { status: 'settled' })
    t.equal(done.status, 200)
    const exit = await cli.exited
    t.equal(exit.code, 0, cli.stderr())
    t.match(cli.stdout(), /^mode\s+drained$/m)
    t.match(cli.stdout(), /^inflight settlements\s+0$/m)
    t.equal((await gw.admin('POST', '/admin/drain/stop')).status, 200)
  })

  t.test('exits 1 when the deadline passes with work inflight', async (t) => {
    const id = await submit()
    const cli = spawnNode([GATEWAY_BIN, 'drain', 'start', '--wait', '--deadline-secs', '1', '--interval-ms', '50', '--json', '--admin', gw.adminUrl], env)
    const exit = await cli.exited
    t.equal(exit.code, 1)
    t.match(cli.stderr(), /not drained by the deadline .*1 inflight/)
    const last = JSON.parse(cli.stdout())
    t.match(last, { mode: 'draining', inflight_settlements: 1 }, '--json prints the last status')
    t.ok(Date.now() >= last.deadline * 1000, 'it gave up only once the deadline had passed')
    t.equal(await drainMode(), 'draining', 'the switch stays set: the hook does not undo the drain')
    await gw.admin('POST', `/admin/inflight/${id}/complete`, { status: 'settled' })
    await gw.admin('POST', '/admin/drain/stop')
  })

  t.test('an already drained gateway returns at once', async (t) => {
    const cli = spawnNode([GATEWAY_BIN, 'drain', 'start', '--wait', '--admin', gw.adminUrl], env)
    t.equal((await cli.exited).code, 0, cli.stderr())
    t.match(cli.stdout(), /^mode\s+drained$/m)
    await gw.admin('POST', '/admin/drain/stop')
  })

  t.test('a bad --interval-ms is bad usage naming the flag', async (t) => {
    const cli = spawnNode([GATEWAY_BIN, 'drain', 'start', '--wait', '--interval-ms', 'often', '--admin', gw.adminUrl], env)
    t.equal((await cli.exited).code, 2)
    t.match(cli.stderr(), /--interval-ms/)
  })
})
