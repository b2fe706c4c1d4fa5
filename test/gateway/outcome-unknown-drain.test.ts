// A drain cannot finish over an intent whose outcome is unknown: the upstream may be working on it. Before issue 9
// the timed-out record was released and `drain start` answered `drained` (inflight 0) while blue still held the
// intent; an upgrade started then would migrate the contract under it. Now the drain stays `draining` with
// inflight 1 until the owner's own answer resolves it (here the reconciler's resend once blue is fast again),
// and a coordinated upgrade waits for that answer before it checkpoints.
import t, { type Test } from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor, type GatewayProcess, type ServiceProcess } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { startCoordinatedGateway, startWorld, statusOf, untilState } from '../coordinator/helpers/e2e.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

async function setDelay (service: ServiceProcess, ms: number): Promise<void> {
  const res = await fetch(`${service.url}/sandbox/delay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms }) })
  if (res.status !== 200) throw new Error(`POST /sandbox/delay answered ${res.status}`)
}

interface DrainBody { mode: string, inflight_settlements: number }
interface Listed { id: string | null, phase: string, upstream: string }

/** Submits one intent to a slow blue (answers after 2.5 s, gateway timeout 1 s): 504, outcome unknown. */
async function unknownIntent (t: Test, gw: GatewayProcess, blue: ServiceProcess): Promise<{ user: string, nonce: number }> {
  await setDelay(blue, 2500)
  const intent = signIntentV1(makeSigner())
  const answer = await request(`${gw.proxyUrl}/intents`, { body: intent, headers: { 'idempotency-key': `drain-${intent.nonce}` } })
  t.equal(answer.status, 504, JSON.stringify(answer.body))
  t.equal(answer.body.type, 'urn:intent-gate:problem:upstream-outcome-unknown')
  return intent
}

t.test('a drain over an unknown outcome stays draining (inflight 1) until the owner answers', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 1500 })
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url }).replace('[proxy]\n', '[proxy]\nupstream_timeout_ms = 1000\n')
  const gw = await startGateway(t, { config })
  await waitFor('blue healthy', async () => (await gw.admin<{ upstreams: Array<{ healthy: boolean }> }>('GET', '/admin/upstreams')).body.upstreams[0]?.healthy === true ? true : undefined)

  const intent = await unknownIntent(t, gw, blue)
  const started = await gw.admin<DrainBody>('POST', '/admin/drain/start', { reason: 'outcome unknown test' })
  t.match(started.body, { mode: 'draining', inflight_settlements: 1 }, 'drain start: draining, the unknown intent counted')

  // The reconciler resends to blue, which still answers too late: two resends seen by blue, still unknown.
  await waitFor('two resends reached blue', async () => ((await blue.stats()).by_key?.[`${intent.user}:${intent.nonce}`] ?? 0) >= 3 ? true : undefined, 30_000, 100)
  const still = await gw.admin<DrainBody>('GET', '/admin/drain/status')
  t.match(still.body, { mode: 'draining', inflight_settlements: 1 }, 'still draining while blue cannot say')
  t.match((await gw.admin<Listed[]>('GET', '/admin/inflight')).body, [{ phase: 'unknown', upstream: 'blue', id: null }])

  // Blue answers in time again: the next resend gets its answer, which binds the record (and, the intent having
  // settled on blue meanwhile, ends it: blue's answer to the resubmission says `settled`).
  await setDelay(blue, 0)
  const modes: string[] = []
  const resolved = await waitFor('the owner\'s answer resolved the record', async () => {
    const listed = await gw.admin<Listed[]>('GET', '/admin/inflight')
    const status = await gw.admin<DrainBody>('GET', '/admin/drain/status')
    const record = listed.body[0]
    if (record === undefined || record.id !== null) return { record: record ?? null, mode: status.body.mode }
    modes.push(status.body.mode)
    return undefined
  }, 70_000, 100)
  t.ok(modes.every((m) => m === 'draining'), `never drained while the outcome was unknown (${modes.length} reads)`)
  if (resolved.record !== null) t.not(resolved.record.phase, 'unknown', `bound by blue's answer (phase ${resolved.record.phase})`)
  await waitFor('drained once the intent ended', async () => (await gw.admin<DrainBody>('GET', '/admin/drain/status')).body.mode === 'drained' ? true : undefined, 30_000, 100)
  const ended = await gw.admin<Array<{ status: string, upstream: string }>>('GET', '/admin/inflight')
  t.same(ended.body, [], 'nothing left inflight')
  t.equal((await blue.stats()).accepted, 1, 'one intent, on blue')
})

t.test('a coordinated upgrade waits for the owner\'s answer to an unknown outcome', async (t) => {
  // The coordinated gateway of the e2e helpers, with the proxy's timeout at 1 s (environment override).
  process.env['INTENT_GATE_PROXY_UPSTREAM_TIMEOUT_MS'] = '1000'
  t.teardown(() => { delete process.env['INTENT_GATE_PROXY_UPSTREAM_TIMEOUT_MS'] })
  const w = await startWorld(t, { settleMs: 1000 })
  const gw = await startCoordinatedGateway(t, w)
  await waitFor('blue healthy', async () => (await gw.admin<{ upstreams: Array<{ color: string, healthy: boolean }> }>('GET', '/admin/upstreams')).body.upstreams.every((u) => u.healthy) ? true : undefined)

  await unknownIntent(t, gw, w.blue)
  const info = w.chain.info
  const start = await gw.admin<{ id: string }>('POST', '/admin/upgrade/start', {
    target_version: '2.0', swap_to: 'green', contract: { code_id: info.code_ids['2.0'], checksum: info.checksums['2.0'] }
  })
  t.equal(start.status, 202, JSON.stringify(start.body))
  const draining = await untilState(statusOf(gw), ['draining', ...FINAL_STATES])
  t.equal(draining.state, 'draining')
  // Blue is still slow: the reconciler's resends cannot resolve it, and the upgrade waits in its drain.
  await waitFor('a resend reached blue', async () => (await w.blue.stats()).duplicates >= 1 ? true : undefined, 30_000, 100)
  t.equal((await statusOf(gw)()).state, 'draining', 'the upgrade still drains while the outcome is unknown')

  const answeredAt = Date.now()
  await setDelay(w.blue, 0)
  const done = await untilState(statusOf(gw), [...FINAL_STATES], 90_000)
  t.equal(done.state, 'completed', done.error ?? '')
  const drainPhase = done.phases.find((p) => p.phase === 'draining')
  t.ok((drainPhase?.ended_at ?? 0) >= Math.floor(answeredAt / 1000), 'the drain ended only after blue could answer')
  const [blue, green] = await Promise.all([w.blue.stats(), w.green.stats()])
  t.equal(blue.accepted, 1, 'the intent stayed with blue')
  t.equal(green.accepted, 0, 'and never reached green')
})
