// The verifying phase ([analysis]) end to end with real processes (Redis, blue 1.0 and green 2.0 sample services,
// intent-gate serve, no chain): after the swap the gateway counts green's answers to client traffic; a green that
// fails under traffic is rolled back, a quiet period decides nothing and the upgrade completes.
import t from 'tap'
import { openLoad, startHoldGateway, startHoldWorld, statusOf, untilState } from './helpers/hold.js'
import { metricValue, request } from '../helpers/gateway.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const FINAL = [...FINAL_STATES]
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

t.test('a green that fails under traffic after the swap: rolled back by the verifying phase; what it accepted stays its own', async (t) => {
  const w = await startHoldWorld(t, { blueSettleMs: 300, greenSettleMs: 300 })
  const gw = await startHoldGateway(t, w, { extra: '[analysis]\nwatch_secs = 20\nmax_error_ratio = 0.2\nmin_requests = 10' })
  const load = openLoad(() => gw.proxyUrl, 40)
  await sleep(1000)
  t.equal((await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })).status, 202)
  const verifying = await untilState(statusOf(gw), ['verifying', ...FINAL])
  t.equal(verifying.state, 'verifying', 'the upgrade resumed into its verifying phase')
  t.equal((await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'green')
  await sleep(600) // green serves (and accepts) live traffic for a while...
  const broke = Date.now()
  // ...then fails every intent (its health check still passes: only the answers show it).
  const res = await fetch(`${w.green.url}/sandbox/health`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ healthy: true, refuse_intents: true }) })
  t.equal(res.status, 200)
  const done = await untilState(statusOf(gw), FINAL)
  const decided = Date.now()
  await sleep(800)
  const shots = await load.stop()

  t.equal(done.state, 'rolled_back', done.error ?? '')
  const phase = done.phases.find((p) => p.phase === 'verifying')
  t.equal(phase?.outcome, 'failed', 'phase verifying failed')
  t.match(phase?.detail ?? '', /answers of green failed/)
  t.ok(decided - broke < 10_000, `decided ${decided - broke} ms after green broke, well before watch_secs=20 ended`)
  t.same(done.phases.map((p) => p.phase), ['pre_checks', 'draining', 'checkpointing', 'migrating', 'post_checks', 'resuming', 'verifying', 'rolling_back', 'rolled_back'])
  t.ok(done.steps.every((s) => s.status === 'reverted'), 'every step reverted')
  t.equal((await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'blue', 'the previous color is active again')
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  t.equal(metricValue(metrics, 'upgrade_rollbacks_total'), 1, 'upgrade_rollbacks_total counted it')

  // What green accepted while it verified keeps its owner: its status is read from green, and it settles there.
  const green = await w.green.stats()
  t.ok(green.accepted > 0, `green accepted ${green.accepted} intents before it broke`)
  const verifyingFromMs = (verifying.phases.at(-1)?.started_at ?? 0) * 1000
  const onGreen = shots.filter((s) => s.status === 202 && s.id !== null && s.wallStartMs > verifyingFromMs && s.wallStartMs < broke)
  t.ok(onGreen.length > 0)
  for (const s of onGreen.slice(0, 5)) {
    const read = await request(`${gw.proxyUrl}/intents/${s.id ?? ''}`)
    t.equal(read.status, 200, `intent ${s.id ?? ''} is read from its owner`)
  }
  const after = shots.filter((s) => s.wallStartMs > decided + 300)
  t.ok(after.length > 0 && after.every((s) => s.status === 202), 'after the rollback, submissions are accepted again (by blue)')
  t.comment(`answers: ${shots.filter((s) => s.status === 202).length} accepted, ${shots.filter((s) => s.status === 503).length} refused by the broken green; ${phase?.detail ?? ''}`)
})

t.test('a quiet verifying phase (fewer answers than min_requests) ends inconclusive and the upgrade completes', async (t) => {
  const w = await startHoldWorld(t)
  const gw = await startHoldGateway(t, w, { extra: '[analysis]\nwatch_secs = 2\nmin_requests = 50' })
  t.equal((await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })).status, 202)
  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.state, 'completed', done.error ?? '')
  const phase = done.phases.find((p) => p.phase === 'verifying')
  t.equal(phase?.outcome, 'inconclusive')
  t.match(phase?.detail ?? '', /fewer than min_requests=50/)
  t.ok(phase !== undefined && phase.ended_at !== null && phase.ended_at - phase.started_at >= 2, 'it watched for watch_secs')
  t.equal((await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'green')
})
