// The `intent-gate` control commands against a running gateway: drain, inflight, upstreams, with tables and
// --json, and exit statuses 0 (done), 1 (refused or unreachable) and 2 (bad usage, missing token).
import t from 'tap'
import { gatewayToml, request, runCli, startGateway, startService, TEST_TOKEN } from '../helpers/gateway.js'
import { freePort } from '../helpers/redis.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

t.test('control commands', async (t) => {
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const gw = await startGateway(t, { config: gatewayToml({ blue: blue.url, green: 'http://127.0.0.1:1' }) })
  const env = { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN }
  const cli = async (...args: string[]): ReturnType<typeof runCli> => await runCli([...args, '--admin', gw.adminUrl], env)

  const submitted = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })
  t.equal(submitted.status, 202)

  t.test('drain start, status, stop', async (t) => {
    const start = await cli('drain', 'start', '--deadline-secs', '300', '--reason', 'maintenance window')
    t.equal(start.code, 0, start.stderr)
    t.match(start.stdout, /^mode\s+draining$/m)
    t.match(start.stdout, /^inflight settlements\s+1$/m)
    t.match(start.stdout, /^reason\s+maintenance window$/m)
    const json = await cli('drain', 'status', '--json')
    t.equal(json.code, 0)
    const status = JSON.parse(json.stdout)
    t.match(status, { mode: 'draining', inflight_settlements: 1, pending_ibc_packets: 0, reason: 'maintenance window' })
    t.equal(status.deadline - status.started_at, 300)
    t.equal((await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })).status, 503)
    const stop = await cli('drain', 'stop')
    t.equal(stop.code, 0)
    t.match(stop.stdout, /^mode\s+active$/m)
  })

  t.test('inflight list', async (t) => {
    const table = await cli('inflight', 'list')
    t.equal(table.code, 0)
    const [header, row] = table.stdout.split('\n')
    t.match(header, /^ID\s+UPSTREAM\s+VERSION\s+CREATED\s+AGE\s+DEADLINE\s+PHASE$/)
    t.match(row, new RegExp(`^${submitted.body.id as string}\\s+blue\\s+1\\.0\\s`))
    const json = JSON.parse((await cli('inflight', 'list', '--json')).stdout)
    t.same(json.map((r: { id: string }) => r.id), [submitted.body.id])
  })

  t.test('upstreams list and swap', async (t) => {
    const list = await cli('upstreams', 'list')
    t.equal(list.code, 0)
    t.match(list.stdout, /^blue\s+\*\s+\S+\s+1\s+1\.0\s/m)
    t.match(list.stdout, /^green\s+\S+\s+0\s+2\.0\s/m)
    const refused = await cli('upstreams', 'swap', 'green')
    t.equal(refused.code, 1, 'a refused swap exits 1')
    t.match(refused.stderr, /409.*green/)
    const refusedJson = await cli('upstreams', 'swap', 'green', '--json')
    t.equal(JSON.parse(refusedJson.stdout).status, 409, '--json prints the problem')
    const forced = await cli('upstreams', 'swap', 'green', '--force')
    t.equal(forced.code, 0)
    t.match(forced.stdout, /active upstream: green \(was blue\), forced/)
    const bad = await cli('upstreams', 'swap', 'purple')
    t.equal(bad.code, 2, 'an unknown color is bad usage')
    t.match(bad.stderr, /purple/)
    const back = await cli('upstreams', 'swap', 'blue', '--force')
    t.equal(back.code, 0, back.stderr)
  })

  t.test('exit statuses for usage and connection problems', async (t) => {
    // Independent invocations, run side by side.
    const [badFlag, unknown, noToken, wrongToken, badUrl, unreachable, help] = await Promise.all([
      cli('drain', 'start', '--deadline-secs', 'soon'),
      cli('drain', 'pause'),
      runCli(['drain', 'status', '--admin', gw.adminUrl], { INTENT_GATE_ADMIN_TOKEN: undefined }),
      runCli(['drain', 'status', '--admin', gw.adminUrl], { INTENT_GATE_ADMIN_TOKEN: 'wrong' }),
      runCli(['drain', 'status', '--admin', 'not a url'], env),
      freePort().then(async (port) => await runCli(['drain', 'status', '--admin', `http://127.0.0.1:${port}`], env)),
      runCli(['--help'])
    ])
    t.equal(badFlag.code, 2)
    t.match(badFlag.stderr, /--deadline-secs/)
    t.equal(unknown.code, 2)
    t.equal(noToken.code, 2)
    t.match(noToken.stderr, /INTENT_GATE_ADMIN_TOKEN/)
    t.equal(wrongToken.code, 1)
    t.match(wrongToken.stderr, /401/)
    t.equal(badUrl.code, 2)
    t.match(badUrl.stderr, /--admin/)
    t.equal(unreachable.code, 1)
    t.match(unreachable.stderr, /cannot reach the admin API .*ECONNREFUSED/)
    t.equal(help.code, 0)
    t.match(help.stdout, /serve/)
  })
})
