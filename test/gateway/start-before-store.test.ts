// A gateway started before its Redis (a pod that starts first, a Redis restarting): the process runs closed
// (/healthz 200, /readyz 503 naming what it waits for, submissions 503 store-unavailable with Retry-After, nothing
// forwarded), opens by itself once Redis answers, and closes and opens again when Redis stops and starts under
// traffic. Only bad configuration ends the process.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor, type Answer } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

t.test('started 10 s before its Redis, then Redis stopped and started again under traffic', async (t) => {
  // Persistence: the stop below is a restart of the same data, not a loss (redis-forgets tests cover that).
  const redis = await startRedis(t, { persistence: true })
  await redis.stop()
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 600_000 }) })
  const startedAt = Date.now()
  const signer = makeSigner()

  t.equal((await fetch(`${gw.adminUrl}/healthz`)).status, 200, '/healthz: the process is alive')
  const ready = await request(`${gw.adminUrl}/readyz`)
  t.equal(ready.status, 503, '/readyz 503 while the store is not up')
  t.match(ready.body, { type: 'urn:intent-gate:problem:not-ready', waiting_for: { store: /cannot be reached/ } }, 'the body says what it waits for')
  const closed = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
  t.equal(closed.status, 503, 'a submission is refused')
  t.equal(closed.body.type, 'urn:intent-gate:problem:store-unavailable')
  t.match(closed.headers.get('retry-after'), /^[1-9][0-9]*$/, 'with Retry-After')

  // The scenario is the 10 s: a Redis that comes up well after the gateway's old 5 s start-up wait.
  await sleep(Math.max(0, 10_000 - (Date.now() - startedAt)))
  t.equal(gw.child.exitCode, null, 'still running after 10 s without its store')
  t.equal((await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })).status, 503, 'still closed')
  await redis.restart()
  await waitFor('/readyz 200 once Redis answers', async () => ((await fetch(`${gw.adminUrl}/readyz`)).status === 200 ? true : undefined))
  const open = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
  t.equal(open.status, 202, 'opened without a restart')
  t.equal((await blue.stats()).accepted, 1, 'nothing was forwarded while closed')

  const answers: Array<Answer & { phase: string }> = []
  let phase = 'before'
  const load = { running: true }
  const worker = async (): Promise<void> => {
    while (load.running) answers.push({ ...await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) }), phase })
  }
  const workers = Array.from({ length: 4 }, worker)
  const count = (p: string, status: number): number => answers.filter((a) => a.phase === p && a.status === status).length
  await waitFor('load before the stop', async () => (count('before', 202) >= 50 ? true : undefined))
  await redis.stop()
  phase = 'down'
  await waitFor('refusals while Redis is stopped', async () => (count('down', 503) >= 20 ? true : undefined))
  t.equal((await fetch(`${gw.adminUrl}/readyz`)).status, 503, '/readyz 503 while it is stopped')
  await redis.restart()
  phase = 'after'
  await waitFor('admissions again', async () => (count('after', 202) >= 50 ? true : undefined))
  load.running = false
  await Promise.all(workers)

  t.same([...new Set(answers.map((a) => a.status))].sort(), [202, 503], 'only admissions and 503 refusals')
  t.ok(answers.filter((a) => a.status === 503).every((a) => /^[1-9][0-9]*$/.test(a.headers.get('retry-after') ?? '') &&
    a.body.type === 'urn:intent-gate:problem:store-unavailable'), 'every refusal is store-unavailable with Retry-After')
  const admitted = answers.filter((a) => a.status === 202).length + 1
  const accepted = (await blue.stats()).accepted
  const inflight = (await gw.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements
  t.comment(`answers ${answers.length + 1}: admitted ${admitted}; upstream accepted ${accepted}; inflight ${inflight}`)
  t.equal(accepted, admitted, 'the upstream holds exactly what the clients were told was accepted')
  t.equal(inflight, accepted, 'and each is counted once')
  t.equal((await gw.stop('SIGTERM')).code, 0, 'SIGTERM: exit 0')
})

t.test('the shipped configuration runs as shipped and says what it waits for', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const shipped = await readFile(new URL('../../config/intent-gate.toml', import.meta.url), 'utf8')
  // Only the listeners move to free ports; everything else is the file as shipped.
  const config = shipped.replace('listen = "0.0.0.0:8080"', 'listen = "127.0.0.1:0"').replace('listen = "127.0.0.1:9090"', 'listen = "127.0.0.1:0"')
  const gw = await startGateway(t, { config })
  const ready = await waitFor('/readyz to settle', async () => {
    const r = await request(`${gw.adminUrl}/readyz`)
    return r.status === 200 || r.body?.waiting_for?.store === undefined ? r : undefined
  })
  t.equal(ready.status, 200, 'ready as shipped (embedded store, no chain until one is configured)')
  const drain = await gw.admin<{ mode: string }>('GET', '/admin/drain/status')
  t.equal(drain.body.mode, 'active', 'and its drain status is known, not unknown')
  t.equal((await gw.stop('SIGTERM')).code, 0)
})

t.test('a chain RPC that cannot be reached at start keeps the gateway closed and says so', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0' })
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url }).replace('[chain]\nenabled = false', '[chain]\nenabled = true\nrpc_url = "http://127.0.0.1:9"')
  const gw = await startGateway(t, { config })
  const ready = await waitFor('/readyz names the chain', async () => {
    const r = await request(`${gw.adminUrl}/readyz`)
    return r.body?.waiting_for?.store === undefined ? r : undefined
  })
  t.equal(ready.status, 503)
  t.match(ready.body.waiting_for, { chain: /chain RPC at http:\/\/127\.0\.0\.1:9/ }, 'the body names the chain RPC it waits for')
  const refused = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })
  t.equal(refused.status, 503, 'submissions are refused while closed')
  t.match(refused.headers.get('retry-after'), /^[1-9][0-9]*$/)
  t.equal((await blue.stats()).accepted, 0, 'nothing forwarded')
})
